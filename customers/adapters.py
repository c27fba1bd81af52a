"""allauth customisation: every user who signs up gets a customer profile, links in
allauth's emails point at SITE_URL, and its emails are in the portal's layout and in the
recipient's language, through the email outbox."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from core.outbox import outbox_email_store
from customers.languages import language_for_address
from customers.models import Customer
from customers.services import customer_create, customer_welcome


def site_url(path: str) -> str:
    """An absolute link on the portal built from SITE_URL, never from the request's Host.

    A link in an email carries a secret (a reset key, a confirmation key); a Host
    header that a proxy or a loose ALLOWED_HOSTS lets through must not choose where
    that secret is sent.
    """
    return settings.SITE_URL + path


# allauth builds these links from the request itself; the mails they appear in are
# rewritten with the portal's own.
_SITE_LINKS = {
    "account/email/unknown_account": {"signup_url": "account_signup"},
}


def _signup_language() -> str:
    language = (translation.get_language() or "")[:2]
    return language if language in Customer.Language.values else ""


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
            # The language of the sign-up page, so that emails sent later by a worker
            # (which has no browser to ask) are in it too.
            customer_create(user=user, language=_signup_language())
        return user

    def confirm_email(self, request, email_address):
        confirmed = super().confirm_email(request, email_address)
        customer = Customer.objects.filter(user=email_address.user).first()
        if confirmed and customer is not None and customer.welcomed_at is None:
            customer_welcome(customer=customer)
        return confirmed

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return site_url(path.replace("UID-KEY", quote(key)))

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return site_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def send_account_already_exists_mail(self, email: str) -> None:
        self.send_mail(
            "account/email/account_already_exists",
            email,
            {
                "signup_url": site_url(reverse("account_signup")),
                "password_reset_url": site_url(reverse("account_reset_password")),
            },
        )

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context = {
            **context,
            "business_name": settings.BUSINESS_NAME,
            "site_url": settings.SITE_URL,
        }
        for name, url_name in _SITE_LINKS.get(template_prefix, {}).items():
            context[name] = site_url(reverse(url_name))
        # The recipient's language: their profile's if the address is a customer's, else
        # the page's (a sign-up in German is confirmed in German).
        with translation.override(language_for_address(email)):
            message = self.render_mail(template_prefix, email, context)
        # Through the outbox like every other email: stored with the request's changes (a
        # new address, a reset key) and sent by a worker, retried if the server is away.
        html = next(
            (content for content, mimetype in message.alternatives if mimetype == "text/html"),
            "",
        )
        outbox_email_store(
            to=email,
            subject=message.subject,
            body=message.body,
            html=html,
            headers=message.extra_headers,
            from_email=message.from_email,
        )


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """A staff member keeps at least one second factor: without one the admin would
        lock them out, and only a superuser's reset may take the last one away."""
        user = authenticator.user
        if not user.is_staff:
            return True
        return (
            Authenticator.objects.filter(
                user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
            )
            .exclude(pk=authenticator.pk)
            .exists()
        )


def second_factor_added(*, request, user, authenticator: Authenticator, **kwargs) -> None:
    """Setting up an app (a code it showed was checked) or a key (it made the credential)
    proves the person holds it, so the session counts as having used its second factor,
    as allauth records after a login with one. Without this, the admin would ask a staff
    member who just set one up for it again, and an app's next code is up to 30 s away."""
    if authenticator.type in (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN):
        # allauth's own flows record a used factor with this function; it has no public one.
        record_authentication(request, user, "mfa", type=authenticator.type, id=authenticator.pk)
