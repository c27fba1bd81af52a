"""allauth customisation: a customer profile for each user, and the portal's email layout."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from customers.models import Customer
from customers.services import customer_create, customer_welcome


class AccountAdapter(DefaultAccountAdapter):
    def render_mail(self, template_prefix, email, context, headers=None):
        """allauth's emails in the business's layout, like every other email we send.

        Those with an HTML template of their own (the address confirmation) use it; the
        others get their text wrapped in the layout, so that none goes out as bare text.
        """
        context = {
            "business_name": settings.BUSINESS_NAME,
            "site_url": settings.SITE_URL,
            **context,
        }
        message = super().render_mail(template_prefix, email, context, headers=headers)
        if isinstance(message, EmailMultiAlternatives) and not message.alternatives:
            html = render_to_string(
                "emails/account_message.html", {**context, "text": message.body}
            )
            message.attach_alternative(html, "text/html")
        return message

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
