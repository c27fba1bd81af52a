"""What the loyalty app announces to the apps above it (the partner API's webhooks listen).

Each signal is sent inside the database transaction that made the change, so a
receiver can write its own rows (an outbox) atomically with it.
"""

from django.dispatch import Signal

# Pending transactions became posted, in one settlement batch. Arguments: `batch` (UUID,
# the `settlement_batch` of every transaction it posted).
transactions_settled = Signal()

# A pending transaction was voided. Arguments: `transaction` (Transaction).
transaction_voided = Signal()

# A posted transaction was taken back, wholly or in part (a refund after settlement, a
# staff correction). Arguments: `reversal` (Transaction, kind reversal, `reverses` the
# original). Sent once per reversal written, not for a repeat of its idempotency key.
transaction_reversed = Signal()

# A voucher was issued to a customer. Arguments: `voucher` (Voucher).
voucher_issued = Signal()

# A customer's points will expire soon, and a reminder was recorded (once per stretch of
# inactivity). Arguments: `reminder` (ExpiryNotice, with `account`, `points`, `expires_at`).
points_expiring = Signal()

# A gift was given: by a friend, by staff in a campaign, or for a birthday. Arguments:
# `gift` (Gift, with `recipient`, `sender` (None for the business's gifts), and `points`
# or `reward`).
gift_given = Signal()
