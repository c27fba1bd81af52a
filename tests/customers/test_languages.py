"""The portal's language: the profile's over the browser's, the switcher, emails in the
recipient's language."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from core.emails import email_render
from customers.models import Customer
from customers.services import customer_welcome_send
from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.django_db


def _login(client, customer):
    assert client.login(email=customer.user.email, password=PASSWORD)


def test_english_stays_the_default_without_a_choice(client):
    response = client.get(reverse("home"))
    assert response["Content-Language"] == "en"
    assert b"Sign up" in response.content


def test_a_visitor_sees_the_browsers_language(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert response["Content-Language"] == "fr"
    assert "S\u2019inscrire" in response.content.decode()


def test_a_swiss_browser_gets_the_swiss_variant_for_its_formats(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="de-CH,de;q=0.9")
    assert response["Content-Language"] == "de-ch"
    assert "Registrieren" in response.content.decode()


def test_the_profiles_language_wins_over_the_browsers_from_sign_in_on(client):
    anna = CustomerFactory(language="fr")
    _login(client, anna)
    response = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="de")
    assert response["Content-Language"] == "fr"
    assert "Tableau de bord" in response.content.decode()


def test_a_blank_profile_language_follows_the_browser(client):
    anna = CustomerFactory(language="")
    _login(client, anna)
    response = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="de")
    assert response["Content-Language"] == "de"


def test_the_switcher_stores_a_customers_choice_on_the_profile(client):
    anna = CustomerFactory(language="")
    _login(client, anna)
    response = client.post(
        reverse("set_language"), {"language": "de", "next": reverse("customers:profile")}
    )
    assert response.status_code == 302 and response.url == reverse("customers:profile")
    anna.refresh_from_db()
    assert anna.language == "de"
    page = client.get(reverse("customers:profile"), HTTP_ACCEPT_LANGUAGE="fr")
    assert page["Content-Language"] == "de"
    assert "Ihr Profil" in page.content.decode()


def test_the_switcher_works_for_a_visitor_with_a_cookie_and_refuses_a_foreign_next(client):
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.url == "/"
    assert client.get(reverse("home"))["Content-Language"] == "fr"


def test_the_switcher_is_in_every_pages_header_as_plain_buttons(client):
    page = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    for code in ("en", "de", "fr"):
        assert f'name="language" value="{code}"' in page


def test_the_profile_form_sets_the_language(client):
    anna = CustomerFactory()
    _login(client, anna)
    form = client.get(reverse("customers:profile")).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(language="fr", preferred_channel="email")
    data = {k: v for k, v in data.items() if not isinstance(v, bool) or v}
    response = client.post(reverse("customers:profile"), data, follow=True)
    anna.refresh_from_db()
    assert anna.language == "fr"
    assert "Votre profil a été enregistré." in response.content.decode()


def test_signup_keeps_the_language_of_the_signup_page(client):
    client.post(
        reverse("account_signup"),
        {
            "email": "nora@example.com",
            "first_name": "Nora",
            "last_name": "Lind",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        HTTP_ACCEPT_LANGUAGE="de-CH",
    )
    assert Customer.objects.get(user__email="nora@example.com").language == "de"
    (message,) = mail.outbox
    assert message.subject.endswith("Bitte bestätigen Sie Ihre E-Mail-Adresse")


def test_allauths_emails_go_in_the_recipients_language_not_the_requests(client):
    CustomerFactory(email="zoe@example.com", language="fr")
    client.post(
        reverse("account_reset_password"), {"email": "zoe@example.com"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    (message,) = mail.outbox
    assert "mot de passe" in message.subject.lower(), message.subject


def test_an_email_is_rendered_in_the_language_given_and_the_active_one_is_restored():
    anna = CustomerFactory(language="de")
    with translation.override("fr"):
        email = email_render(
            template="welcome", context={"customer": anna, "contact": None}, language="de"
        )
        assert translation.get_language() == "fr"
    assert "Willkommen bei" in email.subject
    assert "Empfehlungscode" in email.body and "Empfehlungscode" in email.html


def test_the_welcome_email_from_a_worker_is_in_the_customers_language():
    anna = CustomerFactory(language="fr")
    assert customer_welcome_send(customer_id=anna.pk)
    (message,) = mail.outbox
    assert message.subject.startswith("Bienvenue chez")
    assert "code de parrainage" in message.body


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", ["Anmelden", "Passwort", "Noch kein Konto?"]),
        ("fr", ["Se connecter", "Mot de passe", "Pas encore de compte"]),
    ],
)
def test_allauths_pages_speak_the_browsers_language(client, language, words):
    page = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for word in words:
        assert word in page
    reset = client.get(reverse("account_reset_password"), HTTP_ACCEPT_LANGUAGE=language)
    assert reset["Content-Language"] == language
    assert "Password Reset" not in reset.content.decode()
