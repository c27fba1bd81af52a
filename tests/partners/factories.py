from __future__ import annotations

import factory

from partners.models import Partner
from partners.services import partner_create


class PartnerFactory(factory.Factory):
    """A partner made through the service; `.key` holds its API key in clear. An own site
    of the business unless `kind` says merchant."""

    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    webhook_url = ""
    kind = Partner.Kind.OWN

    @classmethod
    def _create(cls, model_class, name, webhook_url, kind):
        partner, key = partner_create(name=name, webhook_url=webhook_url, kind=kind)
        partner.key = key
        return partner
