"""Customers and their relationships, at the bottom of the app layers."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.files.storage import storages
from django.db import models
from django.db.models.functions import Greatest, Least, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

REFERRAL_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERRAL_CODE_LENGTH = 8


class UserManager(BaseUserManager):
    """Users are identified by email; there are no usernames."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    username = None
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        indexes = [
            # Addresses are matched without regard to case (`iexact`, the import's lookups):
            # an index on the same expression keeps that a lookup, not a scan.
            models.Index(Upper("email"), name="user_email_upper"),
        ]

    def __str__(self) -> str:
        return self.email


class ContactPerson(models.Model):
    """A real person at the business whom customers see as their contact."""

    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_person",
        limit_choices_to={"is_staff": True},
    )
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=150)
    bio = models.TextField(_("short bio"), max_length=600, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    photo = models.ImageField(_("photo"), upload_to="contacts/", blank=True)
    photo_thumbnail = models.ImageField(upload_to="contacts/thumbs/", blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class Customer(models.Model):
    """A customer's profile, one-to-one with their user account."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        SMS = "sms", _("Text message")

    class Language(models.TextChoices):
        # Each language named in itself, as in the portal's switcher. The Swiss variants
        # speak German or French with Swiss formats (20'000), in the emails too.
        ENGLISH = "en", "English"
        GERMAN = "de", "Deutsch"
        FRENCH = "fr", "Français"
        SWISS_GERMAN = "de-ch", "Deutsch (Schweiz)"
        SWISS_FRENCH = "fr-ch", "Français (Suisse)"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="customer")
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    referral_code = models.CharField(
        _("referral code"), max_length=REFERRAL_CODE_LENGTH, unique=True, editable=False
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    avatar_thumbnail = models.ImageField(upload_to="avatars/thumbs/", blank=True, editable=False)
    marketing_consent = models.BooleanField(_("marketing emails"), default=False)
    marketing_consent_at = models.DateTimeField(null=True, blank=True, editable=False)
    interests = models.CharField(
        _("interests"),
        max_length=300,
        blank=True,
        help_text=_("What you enjoy, so we can pick gifts you like."),
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    language = models.CharField(
        _("language"),
        max_length=5,
        choices=Language.choices,
        blank=True,
        help_text=_("The portal and our emails speak it; empty: your browser's language."),
    )
    contact_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
    )
    notification_emails = models.BooleanField(
        _("activity emails"),
        default=True,
        help_text=_("Rewards settled, gifts received and reminders before points expire."),
    )
    community_emails = models.BooleanField(
        _("questions from other customers"),
        default=False,
        # Also in the database: bulk loads that name their columns need not know it.
        db_default=False,
        help_text=_(
            "Someone asks about a product you bought or reviewed: may we ask you to answer? "
            "At most one email a week."
        ),
    )
    welcomed_at = models.DateTimeField(null=True, blank=True, editable=False)
    imported_by = models.ForeignKey(
        "CustomerImport",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="customers_created",
        help_text=_("The import that created this customer, if one did."),
    )
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # Admin actions beyond viewing and editing, granted only to the staff who do them.
        permissions = [
            ("erase_customer", "Can erase a customer's personal data"),
            ("export_customer", "Can prepare an export of a customer's data"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.user.email}>"

    @property
    def name(self) -> str:
        if self.erased_at:
            return str(_("A former member"))
        return self.display_name or self.user.get_full_name() or self.user.email.split("@")[0]

    @property
    def first_name(self) -> str:
        return self.user.first_name or self.name.split(" ")[0]


class Connection(models.Model):
    """A friends-and-family link: asked by one customer, confirmed by the other."""

    class Relation(models.TextChoices):
        FRIEND = "friend", _("Friend")
        FAMILY = "family", _("Family")
        COLLEAGUE = "colleague", _("Colleague")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")

    requester = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="connections_requested"
    )
    addressee = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="connections_received"
    )
    relation = models.CharField(max_length=12, choices=Relation.choices, default=Relation.FRIEND)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One connection per pair of customers, whichever side asked first.
            models.UniqueConstraint(
                Least("requester", "addressee"),
                Greatest("requester", "addressee"),
                name="connection_one_per_pair",
            ),
            models.CheckConstraint(
                condition=~models.Q(requester=models.F("addressee")),
                name="connection_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requester} → {self.addressee} ({self.get_status_display()})"

    def other(self, customer: Customer) -> Customer:
        return self.addressee if customer.pk == self.requester_id else self.requester


class Conversion(models.Model):
    """A purchase a partner site reported; loyalty, referrals and reviews read it."""

    class Status(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="conversions")
    channel = models.CharField(
        _("reported by"),
        max_length=64,
        help_text=_(
            "Who reported the purchase (a partner's id); order ids are unique per channel."
        ),
    )
    order_id = models.CharField(_("order id"), max_length=255)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECORDED)
    subject_slug = models.SlugField(
        _("reviewed subject"), max_length=100, blank=True, help_text=_("What was bought, if known.")
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "order_id"], name="conversion_order_once"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="conversion_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount")),
                name="conversion_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} ({self.amount} {self.currency})"


class ConsentRecord(models.Model):
    """Each grant or withdrawal of consent, with when and through what: the proof consent needs."""

    class Topic(models.TextChoices):
        MARKETING = "marketing", _("News, offers and surveys")
        NOTIFICATIONS = "notifications", _("Activity emails")
        COMMUNITY = "community", _("Questions from other customers")

    class Source(models.TextChoices):
        SIGNUP = "signup", _("Signup form")
        PROFILE = "profile", _("Profile page")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
        PARTNER_API = "partner_api", _("Partner API")
        STAFF = "staff", _("Staff")
        IMPORT = "import", _("Imported from an earlier system")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    topic = models.CharField(max_length=20, choices=Topic.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=20, choices=Source.choices)
    # An imported grant keeps when and where the person gave it in the earlier system:
    # the proof is theirs, not the import's.
    given_at = models.DateTimeField(_("given at"), null=True, blank=True)
    given_through = models.CharField(_("given through"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("consent record")

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrew"
        return f"{self.customer_id} {verb} {self.topic} via {self.source}"


def private_storage():
    return storages["private"]


class DataExport(models.Model):
    """An archive of everything held about a customer, built in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Being prepared")
        READY = "ready", _("Ready to download")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        CUSTOMER = "customer", _("The customer")
        STAFF = "staff", _("Staff")
        PARTNER = "partner", _("A partner site")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="data_exports")
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    archive = models.FileField(upload_to="exports/", storage=private_storage, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("data export")

    def __str__(self) -> str:
        return f"Export {self.public_id} ({self.status})"


class StaffAccess(models.Model):
    """Who on the staff viewed, changed, exported or erased a customer's personal data, or
    reset a staff member's second factor (recorded against that member's profile).

    Rows are only ever added: the admin shows them read-only to superusers, and on
    PostgreSQL a trigger refuses UPDATE and DELETE.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CHANGE = "change", _("Changed")
        EXPORT = "export", _("Exported")
        ERASE = "erase", _("Erased")
        RESET_SECOND_FACTOR = "reset_2fa", _("Reset second factor")
        ROTATE_WIDGET_KEYS = "widget_key", _("Rotated a partner's widget keys")

    staff = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    path = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("staff access")
        verbose_name_plural = _("staff access trail")

    def __str__(self) -> str:
        return f"{self.staff} {self.action} {self.customer_id} at {self.at:%Y-%m-%d %H:%M}"


class Notice(models.Model):
    """One entry of a customer's notification centre.

    The kind and its parameters are stored, not a sentence: the text is written
    at display time in the reader's language (see `customers.notices`). A person
    the notice is about is a link (`actor`), not a copied name, so that their
    erasure shows "a former member" here too. `source_key` names the event that
    caused the notice, so a signal sent twice creates one notice.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    url = models.CharField(max_length=300)
    source_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notice")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "source_key"], name="notice_once_per_event"
            ),
        ]
        indexes = [
            # The bell's count on every page seeks to (customer, unread) and counts index
            # entries only, however long the history grows. A partial index on the unread
            # alone would be smaller, but SQLite's planner (without statistics) prefers
            # the list's index to it, and would then read every notice.
            models.Index(fields=["customer", "read_at"], name="notice_unread"),
            models.Index(fields=["customer", "-created_at"], name="notice_list"),
            models.Index(fields=["created_at"], name="notice_prune"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.customer_id}"

    @property
    def text(self) -> str:
        """The sentence, in the active language (each app registers its kinds' wording)."""
        from customers.notices import notice_text

        return notice_text(self)


class CustomerImport(models.Model):
    """One upload of existing customers: the file, what a preview found, how far the run got.

    The row is the import's memory across workers: `rows_done` moves in the same database
    transaction as the rows of each chunk, so a run that dies resumes after the last chunk
    that committed, and a progress page reads it after a reload.
    """

    class Status(models.TextChoices):
        ANALYSING = "analysing", _("Checking the file")
        READY = "ready", _("Ready to confirm")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(_("file"), upload_to="imports/", storage=private_storage, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    source = models.SlugField(
        _("source"),
        max_length=50,
        help_text=_(
            "A short name for the system the customers come from. Opening balances are "
            "posted once per source and customer, so importing again under the same name "
            "never posts a balance twice."
        ),
    )
    send_welcome = models.BooleanField(
        _("send a welcome email"),
        default=False,
        help_text=_(
            "New customers who agreed to marketing get a welcome with a link to set their "
            "password. Nobody else is emailed."
        ),
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ANALYSING)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    delimiter = models.CharField(max_length=1, blank=True, editable=False)
    preview = models.JSONField(default=dict, blank=True, editable=False)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    expected_new = models.PositiveIntegerField(_("new (preview)"), default=0)
    expected_matched = models.PositiveIntegerField(_("matched (preview)"), default=0)
    expected_rejected = models.PositiveIntegerField(_("rejected (preview)"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("customers created"), default=0)
    matched_count = models.PositiveIntegerField(_("customers matched"), default=0)
    rejected_count = models.PositiveIntegerField(_("rows rejected"), default=0)
    balances_posted = models.PositiveIntegerField(_("balances posted"), default=0)
    balances_differing = models.PositiveIntegerField(_("balances differing"), default=0)
    # Where the current run started, for its rate and time left.
    run_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    run_started_rows = models.PositiveIntegerField(default=0, editable=False)
    # How many times a check of the file started: a check whose worker keeps dying (a file
    # that brings it down) fails after a few, instead of being handed on for ever.
    check_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # When the last batch of welcome emails went out: one batch per interval per import,
    # however many tasks (a retry, a duplicate delivery) ask for one.
    welcomes_batch_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class CustomerImportKey(models.Model):
    """An address or a partner's customer id in an import's file, as a fingerprint, with the
    first row it is on.

    Written chunk by chunk as the file is read, so that a row repeating an earlier row is
    found by the database, across the whole file, while the worker keeps one chunk in memory.
    """

    customer_import = models.ForeignKey(
        CustomerImport, on_delete=models.CASCADE, related_name="keys"
    )
    fingerprint = models.BigIntegerField()
    row_number = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_import", "fingerprint"], name="import_key_once_per_file"
            ),
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.fingerprint:x}"


class CustomerImportIssue(models.Model):
    """A row the import refused, or a balance it did not post, with the row as it was read.

    Written in the same transaction as the chunk it belongs to, so the report of a run
    that was killed and resumed lists each row once.
    """

    class Kind(models.TextChoices):
        REJECTED = "rejected", _("Rejected")
        BALANCE_DIFFERS = "balance_differs", _("Balance differs")

    customer_import = models.ForeignKey(
        CustomerImport, on_delete=models.CASCADE, related_name="issues"
    )
    row_number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.CharField(max_length=500)
    values = models.JSONField(default=list)

    class Meta:
        ordering = ["customer_import", "row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer_import", "row_number"], name="import_issue_once_per_row"
            ),
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.reason}"
