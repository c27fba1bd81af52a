"""A demo partner for `seed_demo`, with a documented key so a newcomer can call the API."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from customers.demo import demo_customers
from partners.demo_shop import DEMO_PUBLISHABLE_KEY, DEMO_WIDGET_SECRET
from partners.models import Partner, PartnerAPIKey, PartnerCustomer

DEMO_KEY_PREFIX = "DEMOSHOP"
# Documented like the demo password; seed_demo refuses to run without DEBUG unless told.
DEMO_API_KEY = f"{DEMO_KEY_PREFIX}.kindred-demo-api-key-not-secret"


def demo_shop_origin() -> str:
    """Where `make run` serves the demo shop: the port after Kindred's."""
    site = urlsplit(settings.SITE_URL)
    return f"{site.scheme}://{site.hostname}:{(site.port or 80) + 1}"


def seed() -> str:
    """The shop as a partner, linked to the demo customers, with a known API key and
    widget keys, its widget allowed on the demo shop's origin."""
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
    Partner.objects.filter(pk=partner.pk).update(
        publishable_key=DEMO_PUBLISHABLE_KEY,
        widget_secret=DEMO_WIDGET_SECRET,
        widget_origins=demo_shop_origin(),
    )
    links = [
        PartnerCustomer.objects.get_or_create(
            partner=partner,
            customer=customer,
            defaults={"external_id": f"shop-{customer.pk}"},
        )[0]
        for customer in demo_customers()
    ]
    anna = next((link for link in links if link.customer.user.email == "anna@example.com"), None)
    widget = f"; widget demo shop at {demo_shop_origin()}/"
    if anna is not None:
        widget += f" (log in there as {anna.external_id}, Anna)"
    return (
        f"1 partner; try: curl -H 'Authorization: Api-Key {DEMO_API_KEY}' /api/v1/customers/"
        + widget
    )
