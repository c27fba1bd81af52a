"""Reviews: ratings, photos, moderation, replies, helpful votes, questions and answers, NPS
surveys and feedback alerts.

Public surface (for the partner API and other callers):
- selectors: `published_reviews`, `review_summary`, `subjects_with_ratings`;
- services (`reviews.services`): `review_create`, `review_update`, `review_publish`,
  `review_reject`, `review_reply_set`, `helpful_vote_add`; surveys (`reviews.surveys`):
  `survey_schedule` (call when a purchase is recorded); alerts (`reviews.alerts`) and
  reviewing points (`reviews.points`); questions and answers (`reviews.questions`):
  `question_ask`, `question_publish`, `question_reject`, `answer_create`, `answer_publish`,
  `answer_reject`, `answer_vote_add`; selector `published_questions`;
- signals `reviews.signals`: `review_published(review)`, `review_rejected(review)`,
  `review_replied(review, reply, created)`, `question_published(question)`,
  `question_rejected(question)`, `answer_published(answer)`, `answer_rejected(answer)`.

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
- Questions and answers publish at once unless they hold a banned word (then a moderator
  publishes or rejects them with a reason). Nobody answers their own question; one answer per
  person and question, labelled "staff" or "bought this" (a verified purchase, as for reviews).
  A published question emails up to three customers who bought or reviewed the subject (only
  with community-email consent, at most one such email a week each) and the asker's contact
  person. A customer's published answer earns loyalty's answer bonus once per question, within
  the earn rule's daily number of answers, and is then labelled as having received points.
- Erasure deletes a customer's reviews, photos, questions, answers and votes, and keeps NPS
  scores without the comment.
"""
