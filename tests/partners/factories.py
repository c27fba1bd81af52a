from __future__ import annotations

import factory

from partners.models import Partner
from partners.services import partner_create


class PartnerFactory(factory.Factory):
    """A partner made through the service; `.key` holds its API key in clear."""

    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    webhook_url = ""

    @classmethod
    def _create(cls, model_class, name, webhook_url):
        partner, key = partner_create(name=name, webhook_url=webhook_url)
        partner.key = key
        return partner
