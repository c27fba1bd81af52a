"""Every word a customer reads is translated: templates marked, catalogues complete,
Swiss formats, and emails in the recipient's language."""

from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core import mail
from django.template.base import Lexer, TokenType
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format

from loyalty import ledger
from loyalty.memos import Memo
from loyalty.models import Transaction
from referrals.invitations import invitation_send, invitations_create
from reviews.models import Survey
from reviews.surveys import survey_schedule, survey_send
from tests.factories import CustomerFactory, purchase

TEMPLATES = Path(settings.BASE_DIR) / "templates"
CATALOGUES = sorted(Path(settings.BASE_DIR).glob("locale/*/LC_MESSAGES/django.po"))

# Words that read the same in every language: brand and technical names.
SAME_IN_EVERY_LANGUAGE = {"NPS"}
_TAG = re.compile(r"<[^>]*>", re.S)
_VISIBLE_ATTRIBUTE = re.compile(r'\b(?:alt|title|placeholder|aria-label)="([^"]*)"')
_HIDDEN = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->", re.S)


def untranslated_text(source: str) -> list[str]:
    """Visible text of a template outside {% translate %} and {% blocktranslate %}.

    Tags and variables become a separator, so neither the HTML around a variable nor
    a URL built from one counts as text; attributes a reader sees (alt, title,
    placeholder, aria-label) do.
    """
    parts, skipping = [], 0
    for token in Lexer(source).tokenize():
        name = token.contents.split()[0] if token.contents.strip() else ""
        if token.token_type == TokenType.BLOCK:
            if name in ("blocktranslate", "blocktrans", "comment"):
                skipping += 1
            elif name in ("endblocktranslate", "endblocktrans", "endcomment"):
                skipping -= 1
        if token.token_type == TokenType.TEXT and not skipping:
            parts.append(token.contents)
        else:
            parts.append("\x00")
    text = _HIDDEN.sub(" ", "".join(parts))
    found = []
    for piece in _VISIBLE_ATTRIBUTE.findall(text) + _TAG.split(text):
        for chunk in piece.split("\x00"):
            chunk = chunk.strip()
            if (
                re.search(r"[A-Za-z]{2,}", chunk)
                and not re.fullmatch(r"\S*/\S*", chunk)  # a path or URL
                and chunk not in SAME_IN_EVERY_LANGUAGE
            ):
                found.append(chunk)
    return found


def test_the_checker_finds_unmarked_text_and_passes_marked_text():
    source = (
        '{% load i18n %}<p title="Hello there">{% translate "Fine" %}</p>'
        "<h1>Not marked</h1>{% blocktranslate %}Also {{ fine }}{% endblocktranslate %}"
        '<a href="{{ site_url }}/me/rewards/">{{ name }}</a> · 20 {# note #}'
    )
    assert untranslated_text(source) == ["Hello there", "Not marked"]


@pytest.mark.parametrize(
    "template",
    sorted(p.relative_to(TEMPLATES) for p in TEMPLATES.rglob("*") if p.is_file()),
    ids=str,
)
def test_every_template_string_is_marked_for_translation(template):
    assert untranslated_text((TEMPLATES / template).read_text()) == []


def po_entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr[n] and flags (a small parser:
    enough for what makemessages writes)."""
    entries, entry, field = [], None, None
    for line in [*path.read_text().splitlines(), ""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, int):
                entry["msgstr"][field] += value
            else:
                entry[field] += value
        else:
            keyword, _, value = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            field = int(match.group(1)) if match else keyword
            if field == "msgstr":
                field = 0
            if isinstance(field, int):
                entry["msgstr"][field] = ast.literal_eval(value)
            else:
                entry[field] = ast.literal_eval(value)
    return [entry for entry in entries if entry.get("msgid")]


def test_the_po_parser_reads_plurals_flags_and_continued_lines(tmp_path):
    path = tmp_path / "django.po"
    path.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n'
        '#, fuzzy, python-format\nmsgid "%(n)s point"\nmsgid_plural "%(n)s points"\n'
        'msgstr[0] "%(n)s Punkt"\nmsgstr[1] ""\n"%(n)s Punkte"\n\n'
        'msgid ""\n"Long "\n"text"\nmsgstr ""\n'
    )
    plural, long = po_entries(path)
    assert plural["flags"] == {"fuzzy", "python-format"}
    assert plural["msgstr"] == {0: "%(n)s Punkt", 1: "%(n)s Punkte"}
    assert long["msgid"] == "Long text" and long["msgstr"] == {0: ""}


def test_german_and_french_catalogues_exist():
    assert {path.parts[-3] for path in CATALOGUES} == {"de", "fr"}


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.parts[-3])
def test_a_catalogue_has_no_untranslated_or_fuzzy_entry(catalogue):
    entries = po_entries(catalogue)
    assert len(entries) > 500
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [] and fuzzy == []


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.parts[-3])
def test_a_translation_keeps_the_placeholders_of_its_msgid(catalogue):
    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]")
    for entry in po_entries(catalogue):
        expected = placeholder.findall(entry["msgid"])
        for form, text in entry["msgstr"].items():
            # A singular may say "one" instead of its count; every other placeholder stays.
            found = set(placeholder.findall(text))
            assert found == set(expected) or (
                form == 0 and "msgid_plural" in entry and set(found) <= set(expected)
            ), (entry["msgid"], text)


@pytest.mark.parametrize("language", ["de-ch", "fr-ch"])
def test_swiss_numbers_group_thousands_with_an_apostrophe_and_dates_use_dots(language):
    with translation.override(language):
        assert intcomma(20000) == "20'000"
        assert number_format(1234567, force_grouping=True) == "1'234'567"
        assert date_format(date(2026, 12, 6), "SHORT_DATE_FORMAT") == "06.12.2026"


def test_points_shown_to_a_swiss_customer_use_the_swiss_format():
    balance = {"settled": 20000, "pending": 1500, "next_settles_at": date(2026, 12, 6)}
    with translation.override("de-ch"):
        html = unescape(render_to_string("loyalty/_balance.html", {"balance": balance}))
    assert "20'000 Punkte" in html
    assert "1'500" in html and "6. Dezember 2026" in html
    with translation.override("de"):
        assert "20.000 Punkte" in render_to_string("loyalty/_balance.html", {"balance": balance})


# Emails reach a French-speaking recipient in French, whoever triggered them.


@pytest.mark.django_db
def test_an_invitation_from_a_french_speaker_goes_out_in_french(settings):
    anna = CustomerFactory(first_name="Anna", language="fr")
    (invitation,) = invitations_create(sender=anna, addresses="ami@example.org").invited
    with translation.override("de"):  # the worker's or a request's language does not count
        invitation_send(invitation_id=invitation.pk)
    (message,) = mail.outbox
    assert message.subject == f"{anna.name} vous invite chez {settings.BUSINESS_NAME}"
    assert "Accepter l\u2019invitation" in message.body
    assert "Accepter l\u2019invitation" in message.alternatives[0][0]


@pytest.mark.django_db
def test_an_invited_member_gets_the_invitation_in_their_own_language():
    anna = CustomerFactory(first_name="Anna", language="de")
    CustomerFactory(email="zoe@example.org", language="fr")
    (invitation,) = invitations_create(sender=anna, addresses="zoe@example.org").invited
    invitation_send(invitation_id=invitation.pk)
    (message,) = mail.outbox
    assert "vous invite" in message.subject


def _settled_reward_email(language: str, points: int, callbacks):
    """The email a customer of `language` gets when a referral reward of `points` settles."""
    customer = CustomerFactory(language=language)
    ledger.points_award(
        customer=customer,
        points=points,
        kind=Transaction.Kind.REFERRAL_REWARD,
        memo="Referral",
        settles_at=timezone.now() - timedelta(seconds=1),
    )
    with callbacks(execute=True):
        ledger.settle_due()
    (message,) = mail.outbox
    return message


@pytest.mark.django_db
def test_a_settled_reward_is_announced_in_french_with_french_numbers(
    django_capture_on_commit_callbacks, tasks_inline
):
    message = _settled_reward_email("fr", 1500, django_capture_on_commit_callbacks)
    with translation.override("fr"):
        expected = f"{intcomma(1500)} points sont désormais à vous"
    # A subject is forced onto one line of plain spaces (see email_render).
    assert message.subject == " ".join(expected.split())
    assert "1500" not in message.subject
    assert "Le délai de retour est écoulé" in message.body
    assert "Se désabonner" in message.body


@pytest.mark.django_db
def test_the_survey_reaches_a_french_speaker_in_french(settings):
    zoe = CustomerFactory(language="fr", marketing_consent=True)
    survey = survey_schedule(conversion=purchase(zoe))
    Survey.objects.filter(pk=survey.pk).update(send_after=timezone.now())
    assert survey_send(survey_id=survey.pk)
    (message,) = mail.outbox
    assert message.subject == f"Recommanderiez-vous {settings.BUSINESS_NAME} à un ami ?"
    assert "Merci pour votre récent achat" in message.body
    assert "Merci pour votre récent achat" in message.alternatives[0][0]


@pytest.mark.django_db
def test_the_portals_own_memos_are_translated_in_the_history(client):
    anna = CustomerFactory(language="de")
    ledger.points_award(
        customer=anna,
        points=50,
        kind=Transaction.Kind.REVIEW_BONUS,
        memo=Memo(kind="review_bonus"),
    )
    client.force_login(anna.user)
    page = client.get("/me/rewards/history/").content.decode()
    assert "Danke für Ihre Bewertung" in page


@pytest.mark.django_db
def test_a_swiss_customers_email_uses_swiss_formats(
    django_capture_on_commit_callbacks, tasks_inline
):
    message = _settled_reward_email("de-ch", 20000, django_capture_on_commit_callbacks)
    assert "20'000" in message.subject and "20.000" not in message.subject
    assert "Punkte" in message.subject
