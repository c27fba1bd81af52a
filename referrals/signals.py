"""What the referrals app announces to the apps above it (the partner API's webhooks listen).

Sent inside the database transaction that made the change, so a receiver can
write its own rows (an outbox) atomically with it.
"""

from django.dispatch import Signal

# A referral qualified and its rewards were posted as pending.
# Arguments: `referral` (Referral, with `referrer`, `referee`, `reward_transaction`,
# `friend_transaction` and `friend_voucher` (each may be None but the first), and
# `conversion`: the purchase that qualified it, or None when signing up qualifies).
referral_qualified = Signal()

# A new customer was attributed to the referrer whose link, code or invitation brought
# them (once per customer, ever). Sent for every attribution, whatever the fraud check
# decided: read `referral.status` (a rejected one is a self-referral).
# Arguments: `referral` (Referral, with `referrer`, `referee` and `source`).
referral_attributed = Signal()

# A friend answered an introduction's question (once; a second click sends nothing).
# Arguments: `introduction` (Introduction, with `introducer`; status `new` for a yes,
# `declined` for a no).
introduction_answered = Signal()

# Staff moved an introduction to another stage. Arguments: `introduction` (Introduction,
# with `introducer`, its new status, and `reward_transaction` when a win posted one) and
# `from_status`.
introduction_moved = Signal()
