"""Reviews: ratings, photos, moderation, replies, helpful votes, NPS surveys and feedback alerts.

Public surface (for the partner API and other callers):
- selectors: `published_reviews`, `review_summary`, `subjects_with_ratings`;
- services (`reviews.services`): `review_create`, `review_update`, `review_publish`,
  `review_reject`, `review_reply_set`, `helpful_vote_add`; surveys (`reviews.surveys`):
  `survey_schedule` (call when a purchase is recorded); alerts (`reviews.alerts`) and
  reviewing points (`reviews.points`);
- signals `reviews.signals`: `review_published(review)`, `review_rejected(review)`,
  `review_replied(review, reply, created)`.

Rules:
- "Verified purchase": a not-fully-refunded conversion naming the subject's slug, or naming no
  subject at all; one naming only other subjects does not verify.
- Auto-publish (4-5 stars) never publishes a review with a banned word; banned words and
  phrases match as whole words, whatever the case.
- Points: a customer's first published review of each subject earns loyalty's review bonus
  once (an edit and re-publication earn nothing more); a review is labelled
  "received points" only when a transaction was posted for it.
- NPS surveys need marketing consent ("news, offers and surveys"), are not sent twice to a
  customer within the policy's cooldown, nor for refunded or old purchases. A score link
  only shows the score chosen; the person's click on "Send" answers, so a mail scanner that
  opens links neither answers nor raises an alert.
- Erasure deletes a customer's reviews and photos, and keeps NPS scores without the comment.
"""
