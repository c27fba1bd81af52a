"""allauth customisation: every user who signs up gets a customer profile."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter

from customers.models import Customer
from customers.services import customer_create, customer_welcome


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            customer_create(user=user)
        return user

    def confirm_email(self, request, email_address):
        confirmed = super().confirm_email(request, email_address)
        customer = Customer.objects.filter(user=email_address.user).first()
        if confirmed and customer is not None and customer.welcomed_at is None:
            customer_welcome(customer=customer)
        return confirmed
