"""The partners app's part of a customer's data export: which partner sites know them."""

from __future__ import annotations

from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import DataSection
from customers.signals import personal_data_collect
from partners.models import PartnerCustomer


@receiver(personal_data_collect, dispatch_uid="partners.partner_links_section")
def partner_links_section(sender, *, customer: Customer, **kwargs) -> DataSection:
    return DataSection(
        name="partner_sites",
        models=(PartnerCustomer,),
        records=list(
            PartnerCustomer.objects.filter(customer=customer).values(
                "partner__name", "external_id", "created_at"
            )
        ),
    )
