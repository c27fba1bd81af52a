"""Give the transactions written before memo kinds the kind their English sentence names,
so that they read in the customer's language too. A memo that is none of the program's
sentences (text a partner or staff typed) keeps no kind and is shown as stored."""

import re

from django.db import migrations

SENTENCES = {
    "Thank you for referring a friend": "referral_reward",
    "Welcome gift for joining through a friend": "welcome_gift",
    "Thank you for your review": "review_bonus",
    "Gift between friends": "friend_gift",
    "Happy birthday!": "birthday_gift",
    "Points adjustment by our team": "staff_adjustment",
    "Opening balance": "opening_balance",
    "Points for your purchases": "purchase_points",
}
PATTERNS = [
    (
        re.compile(
            r"Points for order (?P<order>.+) \((?P<tier>.+): (?P<multiplier>\S+) times the points\)"
        ),
        "order_points",
    ),
    (re.compile(r"Points for order (?P<order>.+)"), "order_points"),
    (re.compile(r"Gift for a friend: (?P<reward>.+)"), "reward_gift"),
    (re.compile(r"Redeemed: (?P<reward>.+)"), "redemption"),
    (re.compile(r"A gift from us: (?P<campaign>.+)"), "campaign_gift"),
    (re.compile(r"Points expired after (?P<months>\d+) months without activity"), "expiry"),
]
STARTS = ("Points for order ", "Gift for a friend: ", "Redeemed: ", "A gift from us: ",
          "Points expired after ", "Reversal: ")  # fmt: skip


def memo_meaning(memo: str) -> tuple[str, dict]:
    """The kind and parameters an old English memo stands for; ("", {}) for typed text."""
    if memo in SENTENCES:
        return SENTENCES[memo], {}
    if memo.startswith("Reversal: "):
        original = memo.removeprefix("Reversal: ")
        kind, params = memo_meaning(original)
        return "reversal", {"kind": kind, "params": params, "memo": original}
    for pattern, kind in PATTERNS:
        if match := pattern.fullmatch(memo):
            params = match.groupdict()
            if kind == "expiry":
                params["months"] = int(params["months"])
            return kind, params
    return "", {}


def memo_kinds_from_sentences(apps, schema_editor):
    Transaction = apps.get_model("loyalty", "Transaction")
    without_kind = Transaction.objects.filter(memo_kind="")
    for memo, kind in SENTENCES.items():
        without_kind.filter(memo=memo).update(memo_kind=kind)
    # An opening balance's memo was written in the language of the worker that posted it.
    without_kind.filter(kind="opening_balance").update(memo_kind="opening_balance")
    batch = []
    for start in STARTS:
        for transaction in (
            without_kind.filter(memo__startswith=start).only("pk", "memo").iterator(chunk_size=2000)
        ):
            transaction.memo_kind, transaction.memo_params = memo_meaning(transaction.memo)
            if transaction.memo_kind:
                batch.append(transaction)
            if len(batch) == 2000:
                Transaction.objects.bulk_update(batch, ["memo_kind", "memo_params"])
                batch = []
    Transaction.objects.bulk_update(batch, ["memo_kind", "memo_params"])


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0017_transaction_memo_kind_and_params"),
    ]

    operations = [
        migrations.RunPython(memo_kinds_from_sentences, migrations.RunPython.noop),
    ]
