"""What a ledger transaction says to the customer, written in the reader's language.

A transaction keeps what its memo means, a kind and its parameters (as notices do, see
`customers.notices`), and the sentence is written when it is shown: a memo posted by a
worker, or for a customer who later switches language, reads in German for a German
reader. `Transaction.memo` keeps the English sentence for staff, the partner API and its
webhooks, whose readers expect a stable text.

Text typed by a person (a partner's reason, a campaign's note) is a memo of the kind
"note" and reads as typed. A transaction written before kinds existed has none: its
stored memo is shown, translated when it is one of the program's own sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from loyalty.models import Transaction

NOTE = "note"


def _order_points(params: Mapping) -> str:
    if params.get("tier"):
        return _("Points for order %(order)s (%(tier)s: %(multiplier)s times the points)") % {
            "order": params["order"],
            "tier": params["tier"],
            "multiplier": params["multiplier"],
        }
    return _("Points for order %(order)s") % {"order": params["order"]}


def _expiry(params: Mapping) -> str:
    months = int(params["months"])
    return ngettext(
        "Points expired after %(months)d month without activity",
        "Points expired after %(months)d months without activity",
        months,
    ) % {"months": months}


def _reversal(params: Mapping) -> str:
    original = Memo(kind=params["kind"], params=params["params"], typed=params["memo"])
    return _("Reversal: %(memo)s") % {"memo": original.text()}


# Each kind's sentence, a function of the parameters that calls gettext when it is shown.
_SENTENCES: dict[str, Callable[[Mapping], str]] = {
    "order_points": _order_points,
    "purchase_points": lambda params: _("Points for your purchases"),
    "referral_reward": lambda params: _("Thank you for referring a friend"),
    "welcome_gift": lambda params: _("Welcome gift for joining through a friend"),
    "review_bonus": lambda params: _("Thank you for your review"),
    "answer_bonus": lambda params: _("Thank you for answering a question"),
    "introduction_reward": lambda params: _("Thank you for introducing a friend"),
    "friend_gift": lambda params: _("Gift between friends"),
    "birthday_gift": lambda params: _("Happy birthday!"),
    "campaign_gift": lambda params: _("A gift from us: %(campaign)s") % params,
    "reward_gift": lambda params: _("Gift for a friend: %(reward)s") % params,
    "redemption": lambda params: _("Redeemed: %(reward)s") % params,
    "staff_adjustment": lambda params: _("Points adjustment by our team"),
    "opening_balance": lambda params: _("Opening balance"),
    "expiry": _expiry,
    "reversal": _reversal,
}
KINDS = frozenset(_SENTENCES)
# What a posting may store: a kind, a note, or (copying an older transaction) no kind.
WRITABLE_KINDS = KINDS | {NOTE, ""}


@dataclass(frozen=True)
class Memo:
    """A memo as stored: its kind and parameters, or the text as typed (`typed`, for a
    note and for a transaction from before kinds, whose kind is empty)."""

    kind: str
    params: Mapping = field(default_factory=dict)
    typed: str = ""

    @classmethod
    def note(cls, text: str) -> Memo:
        """Text a person typed, shown as typed in every language."""
        return cls(kind=NOTE, typed=text)

    @classmethod
    def of(cls, transaction: Transaction) -> Memo:
        return cls(
            kind=transaction.memo_kind, params=transaction.memo_params, typed=transaction.memo
        )

    def text(self) -> str:
        """The sentence in the active language (a kind a later release no longer knows
        reads as its stored sentence)."""
        if self.kind == NOTE:
            return self.typed
        if not self.kind:
            # A transaction from before kinds: its sentence was stored, in English when it
            # was one of the program's own (the catalogue still translates those).
            return _(self.typed) if self.typed else ""
        try:
            return _SENTENCES[self.kind](self.params)
        except (KeyError, TypeError, ValueError):
            # Parameters an older release stored differently: the stored sentence beats a 500.
            return self.typed

    def english(self) -> str:
        """The sentence kept in `Transaction.memo` for staff and partners."""
        with translation.override("en"):
            return self.text()

    def reversed(self) -> Memo:
        """The memo of a transaction that takes this one back."""
        return Memo(
            kind="reversal",
            params={"kind": self.kind, "params": dict(self.params), "memo": self.english()},
        )
