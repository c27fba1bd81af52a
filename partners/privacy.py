"""The partners app's part of a customer's data export: which partner sites know them."""

from __future__ import annotations

from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import DataSection
from customers.signals import customer_erased, personal_data_collect
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


@receiver(customer_erased, dispatch_uid="partners.partner_links_forget")
def partner_links_forget(sender, *, customer: Customer, **kwargs) -> None:
    """A partner's id for the person is personal data: the links go, and with them the
    customer disappears from every partner's view (404)."""
    PartnerCustomer.objects.filter(customer=customer).delete()
