"""What the reviews app announces to the apps above it (the partner API's webhooks listen).

Each signal is sent inside the database transaction that made the change, so a
receiver can write its own rows (an outbox) atomically with it; work outside
the database belongs in `transaction.on_commit`.
"""

from django.dispatch import Signal

# A review became visible to the public (first publication or again after an
# edit was approved). Arguments: `review` (Review, with `subject` and `author`).
review_published = Signal()

# A moderator refused a review; the author reads the reason on their reviews page.
# Arguments: `review` (Review, with `author`, `subject`, `rejection_reason`, `moderated_at`).
review_rejected = Signal()

# The business's public reply to a review was written or rewritten. Arguments: `review`
# (Review, with `author` and `subject`), `reply` (ReviewReply) and `created` (bool: the
# first reply, not a rewrite).
review_replied = Signal()

# A question became visible on its subject's page. Arguments: `question` (Question, with
# `subject` and `author`).
question_published = Signal()

# A moderator refused a question. Arguments: `question` (Question, with `author`, `subject`,
# `rejection_reason`, `moderated_at`).
question_rejected = Signal()

# An answer became visible under its question. Arguments: `answer` (Answer, with `author`
# and `question`, whose `subject` and `author` are loaded).
answer_published = Signal()

# A moderator refused an answer. Arguments: `answer` (Answer, with `author`, `question`,
# `rejection_reason`, `moderated_at`).
answer_rejected = Signal()
