"""Checks on text people type about themselves (names), shared by the portal and the API."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Bidirectional overrides and isolates reorder the text after them on screen, so a name
# could show as something it is not in the admin and in emails.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def validate_printable(value: str) -> None:
    """Refuse control characters (line breaks, escapes, NUL) and bidi overrides; letters of
    every script, accents and the joiners some scripts need are all fine."""
    if any(unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS for char in value):
        raise ValidationError(
            _("Please use letters, spaces and punctuation only."), code="control_characters"
        )
