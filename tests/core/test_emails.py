"""The faster formatting of emails gives the bytes Django's own formatting gives."""

import re
from email import message_from_bytes
from email.policy import compat32

from django.core.mail import EmailMultiAlternatives
from hypothesis import given
from hypothesis import strategies as st

from core.emails import _POLICY, _Message

HEADER_NAMES = st.sampled_from(["Subject", "To", "List-Unsubscribe", "Message-ID", "X"])


def _fold(policy, name: str, value: str) -> bytes | str:
    try:
        return policy.fold_binary(name, value)
    except Exception as error:  # the same refusal counts as the same result
        return repr(error)


@given(
    name=HEADER_NAMES,
    value=st.text(st.characters(max_codepoint=0x7F), max_size=90) | st.text(max_size=90),
)
def test_headers_fold_as_compat32_folds_them(name, value):
    for linesep in ("\n", "\r\n"):
        fast, stock = _POLICY.clone(linesep=linesep), compat32.clone(linesep=linesep)
        assert _fold(fast, name, value) == _fold(stock, name, value)


def _formatted(cls, subject: str) -> bytes:
    message = cls(
        subject=subject,
        body="Hello,\n\nLine two: https://example.org/a?b=c&d=e\n",
        from_email="Kindred Coffee Roasters <hello@example.com>",
        to=["friend@example.org"],
        headers={
            "Date": "Mon, 02 Jun 2025 10:00:00 -0000",
            "Message-ID": "<1@example.com>",
            "List-Unsubscribe": "<https://example.org/no-more-invitations/" + "x" * 80 + "/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative("<p>Hello, <a href='https://example.org/'>café</a></p>", "text/html")
    return message.message().as_bytes(linesep="\r\n")


def _without_boundary(formatted: bytes) -> bytes:
    (boundary,) = set(re.findall(rb'boundary="([^"]+)"', formatted))
    return formatted.replace(boundary, b"BOUNDARY")


def test_messages_are_formatted_as_django_formats_them_but_for_the_boundary():
    for subject in ("Anna invites you", "Zoë invites you to Kindred Coffee Roasters " * 3):
        ours, stock = _formatted(_Message, subject), _formatted(EmailMultiAlternatives, subject)
        assert _without_boundary(ours) == _without_boundary(stock)
        parsed = message_from_bytes(ours)
        assert [part.get_content_type() for part in parsed.walk()] == [
            "multipart/alternative",
            "text/plain",
            "text/html",
        ]
