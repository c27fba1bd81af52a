"""Reviews of subjects, their photos, replies and helpful votes; NPS surveys and feedback alerts."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Conversion, Customer

# Paths under /reviews/ that a subject's slug would hide.
RESERVED_SLUGS = {"mine", "survey", "review", "question", "answer"}


def validate_subject_slug(slug: str) -> None:
    if slug in RESERVED_SLUGS:
        raise ValidationError(_("This slug is reserved; please choose another."))


def display_name_of(user, *, fallback: str = "") -> str:
    """First name and last initial ("Anna K."): enough to be a real person, not a dossier."""
    first = user.first_name or fallback
    initial = f" {user.last_name[0]}." if user.last_name else ""
    return f"{first}{initial}"


class Subject(models.Model):
    """What customers review: a product, a service, a location or a staff member."""

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")
        LOCATION = "location", _("Location")
        STAFF = "staff", _("Staff member")

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        validators=[validate_subject_slug],
        help_text=_("Partners name the subject by this on purchases and in the API."),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PRODUCT)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(
        _("open for reviews"), default=True, help_text=_("Inactive subjects take no new reviews.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")

    def __str__(self) -> str:
        return self.name


class ReviewPolicy(models.Model):
    """The staff's moderation and survey settings; one row (`ReviewPolicy.current()`)."""

    auto_publish_high_ratings = models.BooleanField(
        _("publish 4 and 5 star reviews at once"),
        default=False,
        help_text=_("Flagged reviews still wait for a look."),
    )
    banned_words = models.TextField(
        _("banned words"),
        blank=True,
        help_text=_("One word or phrase per line; a review containing one is flagged."),
    )
    survey_delay_hours = models.PositiveIntegerField(
        _("survey delay (hours)"),
        default=72,
        help_text=_("How long after a purchase the NPS survey email goes out."),
    )
    survey_link_days = models.PositiveIntegerField(_("survey links valid for (days)"), default=14)
    survey_cooldown_days = models.PositiveIntegerField(
        _("days between surveys to one customer"),
        default=30,
        help_text=_("A customer who buys often is not asked after every purchase."),
    )
    alert_recipients = models.TextField(
        _("feedback alert recipients"),
        blank=True,
        help_text=_(
            "Email addresses (one per line) told of detractors and low ratings besides the "
            "customer's contact person; empty means every active staff member."
        ),
    )

    class Meta:
        verbose_name = _("review policy")
        verbose_name_plural = _("review policy")

    def __str__(self) -> str:
        return str(_("Review policy"))

    @classmethod
    def current(cls) -> ReviewPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def banned_words_in(self, text: str) -> list[str]:
        """Banned words or phrases found as whole words in any case ("scam", not "scampi")."""
        lowered = text.casefold()
        words = (line.strip().casefold() for line in self.banned_words.splitlines())
        return [word for word in words if word and re.search(rf"\b{re.escape(word)}\b", lowered)]


class Review(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for moderation")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")

    MAX_PHOTOS = 5

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="reviews")
    author = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField(_("rating"))
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("your review"), max_length=5000)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    rejection_reason = models.TextField(
        _("reason for rejection"), blank=True, help_text=_("The author reads this.")
    )
    flagged_words = models.CharField(
        _("banned words found"), max_length=255, blank=True, editable=False
    )
    verified_purchase = models.BooleanField(_("verified purchase"), default=False, editable=False)
    incentivised = models.BooleanField(
        _("received points for reviewing"), default=False, editable=False
    )
    helpful_count = models.PositiveIntegerField(default=0, editable=False)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    moderated_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        indexes = [
            models.Index(fields=["subject", "status", "-created_at"], name="review_subject_status"),
            models.Index(fields=["status", "-created_at"], name="review_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["author", "subject"], name="review_one_per_subject"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"
            ),
        ]
        permissions = [
            ("moderate_review", "Can publish or reject a review"),
            ("export_review", "Can export reviews with their authors' emails"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.title}"

    @property
    def is_flagged(self) -> bool:
        return bool(self.flagged_words)

    @property
    def public_reply(self) -> ReviewReply | None:
        """The business's reply, or None (the reverse one-to-one raises when there is none)."""
        try:
            return self.reply
        except ReviewReply.DoesNotExist:
            return None

    @property
    def photo_urls(self) -> list[str]:
        return [photo.image.url for photo in self.photos.all()]

    @property
    def author_display(self) -> str:
        return display_name_of(self.author.user, fallback=self.author.first_name)


class ReviewPhoto(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="reviews/")
    thumbnail = models.ImageField(upload_to="reviews/thumbs/")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("review photo")
        verbose_name_plural = _("review photos")

    def __str__(self) -> str:
        return self.image.name


class ReviewReply(models.Model):
    """The business's one public answer to a review, signed by a real person."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="reply")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_replies"
    )
    body = models.TextField(_("reply"), max_length=3000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")

    def __str__(self) -> str:
        return f"Reply to {self.review}"

    @property
    def contact(self):
        """The author's contact-person card (name, role, photo) when they have one."""
        return getattr(self.author, "contact_person", None)

    @property
    def author_name(self) -> str:
        contact = self.contact
        if contact is not None:
            return contact.name
        return self.author.get_full_name() or str(_("The team"))


class HelpfulVote(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="helpful_votes")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("helpful vote")
        verbose_name_plural = _("helpful votes")
        constraints = [
            models.UniqueConstraint(fields=["review", "customer"], name="helpful_vote_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} found {self.review} helpful"


class Survey(models.Model):
    """An NPS question about one purchase: scheduled, emailed by the beat sweep, answered once."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", pgettext_lazy("survey", "Sent")
        ANSWERED = "answered", pgettext_lazy("survey", "Answered")
        CANCELLED = "cancelled", pgettext_lazy("survey", "Cancelled")

    class Group(models.TextChoices):
        DETRACTOR = "detractor", _("Detractor (0-6)")
        PASSIVE = "passive", _("Passive (7-8)")
        PROMOTER = "promoter", _("Promoter (9-10)")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conversion = models.OneToOneField(Conversion, on_delete=models.CASCADE, related_name="survey")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    send_after = models.DateTimeField(_("send after"))
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), max_length=3000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("NPS survey")
        verbose_name_plural = _("NPS surveys")
        indexes = [
            models.Index(
                fields=["send_after"],
                condition=models.Q(status="scheduled"),
                name="survey_due_scheduled",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=10),
                name="survey_score_0_to_10",
            ),
        ]
        permissions = [("export_survey", "Can export survey answers with customers' emails")]

    def __str__(self) -> str:
        return f"NPS for {self.conversion}"

    @property
    def group(self) -> str | None:
        if self.score is None:
            return None
        if self.score <= 6:
            return self.Group.DETRACTOR
        return self.Group.PASSIVE if self.score <= 8 else self.Group.PROMOTER


class FeedbackAlert(models.Model):
    """The staff's queue of voices that need an answer: detractors and 1-2 star reviews."""

    class Kind(models.TextChoices):
        DETRACTOR = "detractor", _("Detractor score")
        LOW_RATING = "low_rating", _("Low rating")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("feedback alert", "Open")
        ANSWERED = "answered", pgettext_lazy("feedback alert", "Answered")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    survey = models.OneToOneField(
        Survey, on_delete=models.CASCADE, null=True, blank=True, related_name="alert"
    )
    review = models.OneToOneField(
        Review, on_delete=models.CASCADE, null=True, blank=True, related_name="alert"
    )
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    note = models.TextField(_("what we did"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    answered_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "-created_at"]
        verbose_name = _("feedback alert")
        verbose_name_plural = _("feedback alerts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(survey__isnull=False, review__isnull=True)
                | models.Q(survey__isnull=True, review__isnull=False),
                name="feedback_alert_survey_or_review",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.customer}"


class Question(models.Model):
    """A signed-in person's question about a subject, for staff and customers who bought it."""

    Status = Review.Status

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="questions")
    author = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="questions")
    body = models.TextField(_("your question"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=10, choices=Review.Status.choices, default=Review.Status.PENDING
    )
    rejection_reason = models.TextField(
        _("reason for rejection"), blank=True, help_text=_("The author reads this.")
    )
    flagged_words = models.CharField(
        _("banned words found"), max_length=255, blank=True, editable=False
    )
    answered_at = models.DateTimeField(
        _("first answered at"), null=True, blank=True, editable=False
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    moderated_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [
            models.Index(
                fields=["subject", "status", "-created_at"], name="question_subject_status"
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(answered_at__isnull=True, status="published"),
                name="question_unanswered",
            ),
        ]
        permissions = [("moderate_question", "Can publish or reject a question")]

    def __str__(self) -> str:
        return self.body[:80]

    @property
    def author_display(self) -> str:
        return display_name_of(self.author.user, fallback=self.author.first_name)


class Answer(models.Model):
    """One person's answer to a question, labelled by who they are to the subject."""

    Status = Review.Status

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answers"
    )
    body = models.TextField(_("your answer"), max_length=3000)
    by_staff = models.BooleanField(_("staff"), default=False, editable=False)
    bought = models.BooleanField(_("bought this"), default=False, editable=False)
    incentivised = models.BooleanField(
        _("received points for answering"), default=False, editable=False
    )
    helpful_count = models.PositiveIntegerField(default=0, editable=False)
    asker_emailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Review.Status.choices, default=Review.Status.PENDING
    )
    rejection_reason = models.TextField(
        _("reason for rejection"), blank=True, help_text=_("The author reads this.")
    )
    flagged_words = models.CharField(
        _("banned words found"), max_length=255, blank=True, editable=False
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    moderated_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["question", "author"], name="answer_one_per_author"),
        ]
        permissions = [("moderate_answer", "Can publish or reject an answer")]

    def __str__(self) -> str:
        return self.body[:80]

    @property
    def author_display(self) -> str:
        return display_name_of(self.author)


class AnswerVote(models.Model):
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="votes")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("helpful vote on an answer")
        verbose_name_plural = _("helpful votes on answers")
        constraints = [
            models.UniqueConstraint(fields=["answer", "customer"], name="answer_vote_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} found {self.answer} helpful"


class AnswerRequest(models.Model):
    """An email asking someone who knows the subject to answer a question: one per person and
    question, and the record that keeps a customer to one such email a week."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="requests")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("request to answer")
        verbose_name_plural = _("requests to answer")
        constraints = [
            models.UniqueConstraint(
                fields=["question", "recipient"], name="answer_request_once_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} asked to answer {self.question_id}"
