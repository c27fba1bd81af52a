"""A demo partner for `seed_demo`, with a documented key so a newcomer can call the API."""

from __future__ import annotations

from customers.demo import demo_customers
from partners.models import Partner, PartnerAPIKey, PartnerCustomer

DEMO_KEY_PREFIX = "DEMOSHOP"
# Documented like the demo password; seed_demo refuses to run without DEBUG unless told.
DEMO_API_KEY = f"{DEMO_KEY_PREFIX}.kindred-demo-api-key-not-secret"


def seed() -> str:
    """The shop as a partner, linked to the demo customers, with a known API key."""
    partner, _created = Partner.objects.get_or_create(
        name="Kindred demo shop",
        defaults={
            "kind": Partner.Kind.OWN,
            "contact_name": "Sam Rivera",
            "contact_email": "sam@example.com",
        },
    )
    if not PartnerAPIKey.objects.filter(prefix=DEMO_KEY_PREFIX).exists():
        hashed = PartnerAPIKey.objects.key_generator.hash(DEMO_API_KEY)
        PartnerAPIKey.objects.create(
            id=f"{DEMO_KEY_PREFIX}.{hashed}",
            prefix=DEMO_KEY_PREFIX,
            hashed_key=hashed,
            name="demo",
            partner=partner,
        )
    for customer in demo_customers():
        PartnerCustomer.objects.get_or_create(
            partner=partner,
            customer=customer,
            defaults={"external_id": f"shop-{customer.pk}"},
        )
    return f"1 partner; try: curl -H 'Authorization: Api-Key {DEMO_API_KEY}' /api/v1/customers/"
