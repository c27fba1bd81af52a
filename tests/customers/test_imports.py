"""Reading customer files as people make them, and checking each row's own fields."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from customers.imports import ImportFileError, chunks_read, import_file_open
from customers.models import CustomerImport
from tests.factories import ContactPersonFactory
from tests.imports_support import semicolon_export

pytestmark = pytest.mark.django_db


def _read(content: bytes, contacts: dict | None = None):
    customer_import = CustomerImport.objects.create(file_name="c.csv", source="test")
    with import_file_open(ContentFile(content, name="c.csv")) as (header, records):
        chunks = chunks_read(records, header, contacts or {}, customer_import=customer_import)
        return header, [row for chunk in chunks for row in chunk]


def test_a_semicolon_export_with_a_byte_order_mark_and_quoted_line_breaks_is_read():
    content = semicolon_export(
        [
            'anna@example.com;Anna;"Smith\r\nthe younger";+44 1;en-GB;;;1200;;ja;04.03.2021;'
            '"Shop; till"',
            "ben@example.com;Ben;Jones;;;;;;;nein;;",
        ]
    )
    header, rows = _read(content)
    assert header.delimiter == ";"
    assert header.columns[0] == "E-mail"  # the byte-order mark is not part of the name
    anna, ben = rows
    assert (anna.number, anna.email, anna.last_name) == (
        1,
        "anna@example.com",
        "Smith\r\nthe younger",
    )
    assert (anna.balance, anna.language, anna.marketing_consent) == (1200, "en", True)
    assert anna.consent_date.date().isoformat() == "2021-03-04"
    assert anna.consent_source == "Shop; till"
    assert not anna.reason and not ben.reason and not ben.marketing_consent


def test_comma_separated_headers_in_any_case_and_order_are_mapped():
    content = (
        b"Points,SURNAME,e-mail address,Given Name,Unknown column\nx5,Doe,jo@example.com,Jo,z\n"
    )
    header, [row] = _read(content)
    assert header.delimiter == ","
    assert (row.email, row.first_name, row.last_name) == ("jo@example.com", "Jo", "Doe")
    assert row.reason == "The opening balance is not a whole number of points."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "not a CSV file"),
        (b"name;phone\nAnna;123\n", "no email column"),
        ("email;name\nanna@example.com;Zoë\n".encode("latin-1"), "not UTF-8"),
        (b"", "no email column"),
    ],
)
def test_a_file_that_is_not_a_customer_csv_gets_a_clear_error(content, message):
    with pytest.raises(ImportFileError, match=message):
        _read(content)


def test_each_row_is_checked_on_its_own_and_against_the_rows_before_it():
    contact = ContactPersonFactory(email="Care@Example.com")
    content = semicolon_export(
        [
            "not-an-email;;;;;;;;;;;",
            "a@example.com;;;;;;;-5;;;;",
            "b@example.com;;;;;;;12.5;;;;",
            "c@example.com;;;;;;;;nobody@example.com;;;",
            "d@example.com;;;;;;;;care@example.com;;;",
            "A@EXAMPLE.com;;;;;;;;;;;",
            "e@example.com;;;;;Shop;;;;;;",
            "f@example.com;;;;;;;;;maybe;;",
            "g@example.com;;;;;;;;;yes;2999-01-01;",
            "h@example.com;;;;klingon!;;;;;;;",
            ";;;;;;;;;;;",
        ]
    )
    _header, rows = _read(content, {"care@example.com": contact.pk})
    reasons = [row.reason for row in rows]
    assert reasons == [
        "Not a valid email address.",
        "The opening balance is negative.",
        "The opening balance is not a whole number of points.",
        "No contact person has the email nobody@example.com.",
        "",
        "The same email is on an earlier row of the file.",
        "A partner is named without the customer's id there.",
        "Marketing consent is not yes or no.",
        "The consent date is in the future.",
        "The language is not one the portal speaks: en, de, fr, de-ch, fr-ch.",
    ]  # the empty last line is no row at all
    assert rows[4].contact_person_id == contact.pk


def test_a_repeated_email_or_partner_id_is_found_in_any_later_chunk(settings):
    settings.CUSTOMER_IMPORT_CHUNK_ROWS = 2
    content = semicolon_export(
        [
            "a@example.com;;;;;Shop;S1;;;;;",
            "b@example.com;;;;;Shop;S2;;;;;",
            "c@example.com;;;;;Other;S1;;;;;",
            "d@example.com;;;;;;;;;;;",
            "A@example.com;;;;;;;;;;;",
            "e@example.com;;;;;shop;S2;;;;;",
        ]
    )
    _header, rows = _read(content)
    assert [row.reason for row in rows] == [
        "",
        "",
        "",  # the same id at another partner is another customer's
        "",
        "The same email is on an earlier row of the file.",
        "The partner's customer id S2 is on an earlier row of the file.",
    ]
    assert [row.read_reason for row in rows] == [row.reason for row in rows]


def test_a_second_read_of_the_same_file_finds_the_same_repeats_and_adds_no_keys(settings):
    settings.CUSTOMER_IMPORT_CHUNK_ROWS = 2
    customer_import = CustomerImport.objects.create(file_name="c.csv", source="test")
    content = semicolon_export(["a@example.com;;;;;Shop;S1;;;;;", "b@example.com;;;;;;;;;;;"] * 3)

    def reasons(after: int) -> dict[int, str]:
        with import_file_open(ContentFile(content, name="c.csv")) as (header, records):
            chunks = chunks_read(records, header, {}, customer_import=customer_import, after=after)
            return {row.number: row.reason for chunk in chunks for row in chunk}

    first = reasons(0)
    assert [number for number, reason in first.items() if not reason] == [1, 2]
    keys = customer_import.keys.count()
    assert keys == 3  # two addresses and one partner id, each at its first row
    # A run resuming after row 3 skips those rows and still knows what they held.
    assert reasons(3) == {number: first[number] for number in (4, 5, 6)}
    assert reasons(0) == first
    assert customer_import.keys.count() == keys
