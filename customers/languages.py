"""Which language the portal and its emails speak to a customer.

A signed-in customer's profile language wins over the browser's (LocaleMiddleware's
choice); the profile's blank means "my browser's". Either way the browser's region
refines it where the portal has that region's formats (de with de-CH gives de-ch: 20'000).
The profile's language is kept in the session from sign-in on, so no page pays a query
for it; the switcher and the profile form update both.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from customers.models import Customer

SESSION_KEY = "customer_language"


def language_for_recipient(customer: Customer | None) -> str:
    """The language of an email to `customer`: their profile's, else the active one.

    Outside a request (a worker) the active language is LANGUAGE_CODE.
    """
    if customer is not None and customer.language:
        return customer.language
    return translation.get_language() or settings.LANGUAGE_CODE


def language_for_address(email: str) -> str:
    """The language of an email to an address: its customer's, if it is one's."""
    customer = Customer.objects.filter(user__email__iexact=email).only("language").first()
    return language_for_recipient(customer)


def languages_by_address(emails: list[str]) -> dict[str, str]:
    """The chosen languages of the customers among these addresses, by lower-cased address."""
    rows = (
        Customer.objects.filter(user__email__in=emails)
        .exclude(language="")
        .values_list("user__email", "language")
    )
    return {email.lower(): language for email, language in rows}


def _with_region(language: str, request: HttpRequest) -> str:
    """`language` in the browser's region when the portal has formats for it."""
    if "-" in language:
        return language
    supported = {code for code, _name in settings.LANGUAGES}
    for accepted, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        accepted = accepted.lower()
        if accepted.startswith(language + "-") and accepted in supported:
            return accepted
    return language


class CustomerLanguageMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: the profile's language, if any."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.LANGUAGE_CODE
        if request.user.is_authenticated:
            language = request.session.get(SESSION_KEY) or language
        language = _with_region(language, request)
        if language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def session_language_set(request: HttpRequest, language: str) -> None:
    request.session[SESSION_KEY] = language


@receiver(user_logged_in, dispatch_uid="customers.languages.login")
def _remember_language(sender, request, user, **kwargs) -> None:
    if request is None:
        return
    language = Customer.objects.filter(user=user).values_list("language", flat=True).first()
    session_language_set(request, language or "")
