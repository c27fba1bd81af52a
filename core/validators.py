"""Checks on text shown to people (names, partners' ids), shared by the portal and the API."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Bidirectional overrides and isolates reorder the text after them on screen, so a name
# could show as something it is not in the admin and in emails.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters that show as nothing: two values that look the same to staff could differ by
# them (a zero-width space, a soft hyphen, a word joiner, a byte order mark, fillers).
INVISIBLE = frozenset(
    "\u00ad\u115f\u1160\u180e\u200b\u2060\u2061\u2062\u2063\u2064\u3164\ufeff\uffa0"
)


def validate_printable(value: str) -> None:
    """Refuse control characters (line breaks, escapes, NUL), bidi overrides and invisible
    characters; letters of every script, accents and the joiners some scripts need (U+200C,
    U+200D) are all fine."""
    if any(
        unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS or char in INVISIBLE
        for char in value
    ):
        raise ValidationError(
            _("Please use letters, spaces and punctuation only."), code="control_characters"
        )
