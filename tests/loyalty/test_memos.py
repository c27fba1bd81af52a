"""Ledger memos read in the customer's language: stored as a kind and its parameters, the
sentence written when the history is shown; typed text as typed; old rows as stored."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import User
from loyalty import ledger
from loyalty.adjustments import adjustment_request
from loyalty.earning import conversion_earn, review_bonus_award
from loyalty.expiry import points_expire_due
from loyalty.gifts import birthday_gifts_award
from loyalty.memos import KINDS, Memo
from loyalty.models import Account, Transaction
from loyalty.vouchers import reward_redeem
from tests.factories import PASSWORD, CustomerFactory, purchase
from tests.imports_support import import_and_run, semicolon_export
from tests.loyalty.factories import RewardFactory
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

# One memo of every kind, with the sentence it reads as in German and in French.
SAMPLES: dict[str, tuple[dict, str, str]] = {
    "order_points": ({"order": "A-17"}, "Punkte für Bestellung A-17",
                     "Points pour la commande A-17"),
    "purchase_points": ({}, "Punkte für Ihre Einkäufe", "Points pour vos achats"),
    "referral_reward": ({}, "Danke für Ihre Empfehlung", "Merci d\u2019avoir parrainé"),
    "welcome_gift": ({}, "Willkommensgeschenk für Ihre Anmeldung",
                     "Cadeau de bienvenue pour votre"),
    "review_bonus": ({}, "Danke für Ihre Bewertung", "Merci pour votre avis"),
    "answer_bonus": ({}, "Danke, dass Sie eine Frage beantwortet haben",
                     "Merci d\u2019avoir répondu à une question"),
    "introduction_reward": ({}, "Danke, dass Sie einen Freund vorgestellt haben",
                            "Merci d\u2019avoir présenté un ami"),
    "friend_gift": ({}, "Geschenk unter Freunden", "Cadeau entre amis"),
    "birthday_gift": ({}, "Alles Gute zum Geburtstag!", "Joyeux anniversaire"),
    "campaign_gift": ({"campaign": "Spring"}, "Ein Geschenk von uns: Spring",
                      "Un cadeau de notre part\u00a0: Spring"),
    "reward_gift": ({"reward": "Flat white"}, "Geschenk für einen Freund: Flat white",
                    "Cadeau pour un ami\u00a0: Flat white"),
    "redemption": ({"reward": "Flat white"}, "Eingelöst: Flat white", "Échangé\u00a0: Flat white"),
    "staff_adjustment": ({}, "Punktekorrektur durch unser Team",
                         "Ajustement de points par notre équipe"),
    "opening_balance": ({}, "Anfangsstand", "Solde d\u2019ouverture"),
    "expiry": ({"months": 12}, "Punkte nach 12 Monaten ohne Aktivität verfallen",
               "Points expirés après 12 mois sans activité"),
    "reversal": ({"kind": "redemption", "params": {"reward": "Tea"}, "memo": "Redeemed: Tea"},
                 "Rückbuchung: Eingelöst: Tea", "Annulation\u00a0: Échangé\u00a0: Tea"),
}  # fmt: skip


def _history(client, customer) -> str:
    assert client.login(email=customer.user.email, password=PASSWORD)
    response = client.get(reverse("loyalty:history"))
    assert response.status_code == 200
    return response.content.decode()


def _english(kind: str, params: dict) -> str:
    return Memo(kind=kind, params=params).english()


def test_every_kind_has_a_sample():
    assert set(SAMPLES) == KINDS


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize(("language", "column"), [("de", 1), ("fr", 2)])
def test_each_kind_of_memo_reads_in_the_customers_language(client, kind, language, column):
    customer = CustomerFactory(language=language)
    params = SAMPLES[kind][0]
    ledger.points_award(
        customer=customer, points=5, kind=Transaction.Kind.EARN, memo=Memo(kind, params)
    )
    page = _history(client, customer)
    assert SAMPLES[kind][column] in page
    assert _english(kind, params) not in page


def _every_kind_of_transaction(customer):
    """The customer's ledger as the program's own services write it."""
    purchase_earn = conversion_earn(conversion=purchase(customer, "20.00", order_id="B-9"))
    review_bonus_award(customer=customer, review_ref="r1")
    redemption = reward_redeem(customer=customer, reward=RewardFactory(points_cost=5))
    ledger.reverse(transaction=redemption.transaction, reason="Shop closed")
    ledger.reverse(transaction=purchase_earn, reason="Returned", points=1)
    staff = User.objects.create_user(email="staff@example.com", password="x", is_staff=True)
    adjustment_request(customer=customer, points=3, reason="Goodwill", actor=staff)
    birthday_gifts_award(today=customer.birthday)
    Account.objects.filter(customer=customer).update(
        last_activity_at=timezone.now() - timedelta(days=3 * 366)
    )
    points_expire_due()


@pytest.mark.parametrize("language", ["de", "fr"])
def test_a_customers_history_shows_no_english_memo_for_any_transaction(client, language):
    customer = CustomerFactory(language=language, birthday=timezone.localdate())
    _every_kind_of_transaction(customer)
    transactions = Transaction.objects.filter(entries__account__customer=customer)
    kinds = set(transactions.values_list("memo_kind", flat=True))
    assert kinds >= {"order_points", "review_bonus", "redemption", "reversal",
                     "staff_adjustment", "birthday_gift", "expiry"}  # fmt: skip
    page = _history(client, customer)
    with translation.override(language):
        for transaction in transactions:
            assert transaction.memo not in page, transaction.memo
            assert str(transaction.memo_text) in page.replace("&#x27;", "'")


def test_an_imported_opening_balance_reads_in_the_customers_language(client):
    PartnerFactory(name="Shop")
    import_and_run(semicolon_export(["ida@example.com;Ida;;;de;;;40;;;;"]))
    customer = Transaction.objects.get(kind="opening_balance").entries.get(amount=40)
    customer = customer.account.customer
    customer.user.set_password(PASSWORD)
    customer.user.save()
    page = _history(client, customer)
    assert "Anfangsstand" in page and "Opening balance" not in page


def test_text_a_person_typed_reads_as_typed_in_every_language(client):
    customer = CustomerFactory(language="de")
    ledger.points_award(customer=customer, points=5, kind="earn", memo="Sorry for the wait")
    assert "Sorry for the wait" in _history(client, customer)


def test_an_older_row_without_a_kind_shows_its_stored_memo(client):
    customer = CustomerFactory(language="de")
    for memo in ("Points from the old loyalty card", "Thank you for referring a friend"):
        posted = ledger.points_award(customer=customer, points=5, kind="earn", memo=memo)
        Transaction.objects.filter(pk=posted.pk).update(memo_kind="", memo_params={})
    page = _history(client, customer)
    assert "Points from the old loyalty card" in page
    # One of the program's own sentences is still found in the catalogue.
    assert "Danke für Ihre Empfehlung" in page


def test_the_migration_gives_old_sentences_their_kind_and_keeps_typed_text():
    migration = importlib.import_module(
        "loyalty.migrations.0018_transaction_memo_kinds_from_sentences"
    )
    meaning = migration.memo_meaning
    assert meaning("Points expired after 12 months without activity") == (
        "expiry",
        {"months": 12},
    )
    assert meaning("Points for order A-1 (Gold: 1.5 times the points)") == (
        "order_points",
        {"order": "A-1", "tier": "Gold", "multiplier": "1.5"},
    )
    assert meaning("Reversal: Gift for a friend: Tea") == (
        "reversal",
        {"kind": "reward_gift", "params": {"reward": "Tea"}, "memo": "Gift for a friend: Tea"},
    )
    assert meaning("Sorry for the wait") == ("", {})
    for kind, params in (meaning("Redeemed: Tea"), meaning("Opening balance")):
        with translation.override("de"):
            assert Memo(kind, params).text() in ("Eingelöst: Tea", "Anfangsstand")


def test_the_stored_memo_stays_english_for_partners_whatever_the_posting_language():
    customer = CustomerFactory(language="fr")
    with translation.override("de"):
        posted = ledger.points_award(
            customer=customer, points=5, kind="earn", memo=Memo("redemption", {"reward": "Tea"})
        )
    posted.refresh_from_db()
    assert posted.memo == "Redeemed: Tea"
    assert (posted.memo_kind, posted.memo_params) == ("redemption", {"reward": "Tea"})


def test_rows_from_before_the_migration_read_in_german_after_it(client):
    from django.apps import apps

    migration = importlib.import_module(
        "loyalty.migrations.0018_transaction_memo_kinds_from_sentences"
    )
    customer = CustomerFactory(language="de")
    for memo in ("Redeemed: Tea", "Reversal: Points for order A-3", "A note typed by staff"):
        posted = ledger.points_award(customer=customer, points=5, kind="earn", memo=memo)
        Transaction.objects.filter(pk=posted.pk).update(memo_kind="", memo_params={})
    migration.memo_kinds_from_sentences(apps, None)
    page = _history(client, customer)
    assert "Eingelöst: Tea" in page and "Rückbuchung: Punkte für Bestellung A-3" in page
    assert "A note typed by staff" in page
    assert "Redeemed: Tea" not in page


def test_a_memo_of_an_unknown_kind_is_refused_and_a_stored_one_reads_as_stored(client):
    customer = CustomerFactory(language="de")
    with pytest.raises(ledger.LedgerError):
        ledger.points_award(customer=customer, points=5, kind="earn", memo=Memo("typo"))
    assert not Transaction.objects.exists()
    posted = ledger.points_award(customer=customer, points=5, kind="earn", memo="Old words")
    Transaction.objects.filter(pk=posted.pk).update(memo_kind="retired_kind")
    assert "Old words" in _history(client, customer)
