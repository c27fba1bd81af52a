"""Input and output shapes of the partner API (partner-api.md is the contract)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.validators import validate_printable
from customers.models import Customer
from customers.selectors import referral_url
from loyalty.ledger import credited_points
from loyalty.tiers import customer_tier_name
from partners.models import PartnerCustomer
from partners.selectors import ConversionOutcome

PENDING = PartnerCustomer.Status.PENDING


# Every time the API and its webhooks send: UTC, microseconds, "Z".
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def timestamp(value: datetime | None) -> str | None:
    """`value` in the one shape of the API's and the webhooks' times."""
    return None if value is None else value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


class TimestampField(serializers.DateTimeField):
    """A time as the API sends it: UTC with microseconds, `2026-12-06T03:02:45.622955Z`."""

    def to_representation(self, value: datetime | None) -> str | None:
        return timestamp(value)


class ErrorSerializer(serializers.Serializer):
    """An error: a human message in `detail` (it may change) and a machine `code` to match on."""

    detail = serializers.CharField(help_text="For people; the wording may change.")
    code = serializers.CharField(help_text="For programs: match on this.")


class FieldErrorsSerializer(serializers.Serializer):
    """Invalid fields: each field's name maps to its messages (`non_field_errors` for the
    request as a whole)."""


class PointsSerializer(serializers.Serializer):
    """A customer's points: settled (spendable) and pending (held)."""

    balance = serializers.IntegerField(
        source="points_balance", help_text="Settled points the customer can spend."
    )
    pending = serializers.IntegerField(
        source="points_pending", help_text="Points held until their hold period passes."
    )


class CustomerInSerializer(serializers.Serializer):
    """A customer to create, or to link if the email belongs to a member."""

    # Shown to staff in the admin and searched on: printable text only, like names.
    external_id = serializers.CharField(max_length=255, validators=[validate_printable])
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, validators=[validate_printable]
    )
    last_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, validators=[validate_printable]
    )
    referral_code = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True
    )
    language = serializers.ChoiceField(
        choices=Customer.Language.values,
        required=False,
        allow_blank=True,
        help_text="The language of the portal and the emails of a new customer: en, de, fr, "
        "or de-ch / fr-ch (Swiss formats); empty or absent: their browser's (emails in "
        "English until they choose). An existing customer keeps theirs.",
    )


class PendingCustomerSerializer(serializers.Serializer):
    """A customer whose merchant link waits for their yes: only the link itself shows."""

    id = serializers.UUIDField(source="public_id")
    external_id = serializers.CharField()
    link = serializers.ChoiceField(choices=["pending"])


class CustomerSerializer(serializers.Serializer):
    """A customer as you see them once the link is active (`external_id` is your own id
    for them)."""

    id = serializers.UUIDField(source="public_id")
    external_id = serializers.CharField()
    email = serializers.EmailField(source="user_email")
    first_name = serializers.CharField(source="user_first_name")
    last_name = serializers.CharField(source="user_last_name")
    referral_code = serializers.CharField()
    referral_url = serializers.SerializerMethodField()
    referred_by = serializers.CharField(
        allow_null=True, help_text="The referral code of who referred the customer, or null."
    )
    tier = serializers.SerializerMethodField(help_text="The name of the customer's tier.")
    points = PointsSerializer(source="*")
    link = serializers.ChoiceField(
        choices=["active"],
        help_text="A merchant's link is pending until the person says yes; meanwhile only "
        "`id`, `external_id` and `link` are shown (PendingCustomer).",
    )
    created_at = TimestampField()

    def get_referral_url(self, customer: Customer) -> str:
        return referral_url(customer=customer)

    def get_tier(self, customer: Customer) -> str | None:
        return customer_tier_name(customer=customer)

    def to_representation(self, customer: Customer) -> dict:
        if customer.link == PENDING:
            return PendingCustomerSerializer(context=self.context).to_representation(customer)
        return super().to_representation(customer)


# Bound once per process and reused for every detail read (to_representation keeps no
# state): DRF's copying of every field per answer costs that read more than a tenth of its rate.
CUSTOMER_SHAPE = CustomerSerializer()


def customer_representation(customer: Customer) -> dict:
    """What `CustomerSerializer(customer).data` answers, from fields bound once."""
    return CUSTOMER_SHAPE.to_representation(customer)


class CustomerLookupSerializer(serializers.Serializer):
    """Look a customer up by email or by your external id."""

    email = serializers.EmailField(required=False)
    external_id = serializers.CharField(
        required=False, max_length=255, validators=[validate_printable]
    )


class TransactionSerializer(serializers.Serializer):
    """A movement of the customer's points, from their side: `points` is negative when
    points were taken (a redemption, a reversal)."""

    id = serializers.UUIDField(source="transaction.public_id")
    kind = serializers.CharField(source="transaction.kind")
    status = serializers.CharField(source="transaction.status")
    points = serializers.IntegerField(source="amount")
    memo = serializers.CharField(
        source="shown_memo", help_text="Empty for a merchant's view of others' movements."
    )
    created_at = TimestampField(source="transaction.created_at")
    settles_at = TimestampField(
        source="transaction.settles_at",
        allow_null=True,
        help_text="When held points settle (null for points posted at once).",
    )


class PointsAwardSerializer(serializers.Serializer):
    """Points to give a customer at once, with the reason they see as the memo."""

    points = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.CharField(max_length=255)


class ReferrerSerializer(serializers.Serializer):
    """Who owns a referral code: their first name only."""

    first_name = serializers.CharField()


class ReferralCodeSerializer(serializers.Serializer):
    """A referral code, its owner and what a friend who uses it is offered."""

    code = serializers.CharField()
    referrer = ReferrerSerializer()
    offer = serializers.CharField(help_text="The text of the friend's welcome gift.")


class ConversionInSerializer(serializers.Serializer):
    """A purchase to report."""

    customer = serializers.UUIDField(help_text="The customer's id.")
    order_id = serializers.CharField(max_length=255)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", help_text="ISO 4217 code.")
    occurred_at = serializers.DateTimeField(required=False)
    subject = serializers.SlugField(
        max_length=100,
        required=False,
        help_text="What was bought (a reviews subject slug), so its review shows "
        "as a verified purchase.",
    )


class RefundInSerializer(serializers.Serializer):
    """How much of a purchase to refund; empty: all that is left."""

    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Default: all that is left.",
    )


class ReferralRewardSerializer(serializers.Serializer):
    """The referrer's reward for this purchase, held until `settles_at`."""

    referrer = serializers.UUIDField(source="referrer.public_id")
    points = serializers.SerializerMethodField()
    status = serializers.CharField(source="reward_transaction.status")
    settles_at = TimestampField(source="reward_transaction.settles_at", allow_null=True)

    def get_points(self, referral) -> int:
        return credited_points(referral.reward_transaction)


class ConversionSerializer(serializers.Serializer):
    """A reported purchase, what it earned, and the referral reward it qualified, if any."""

    id = serializers.UUIDField(source="conversion.public_id")
    customer = serializers.UUIDField(source="conversion.customer.public_id")
    order_id = serializers.CharField(source="conversion.order_id")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, source="conversion.amount")
    currency = serializers.CharField(source="conversion.currency")
    status = serializers.CharField(source="conversion.status")
    points_earned = serializers.IntegerField()
    referral_reward = serializers.SerializerMethodField()
    created_at = TimestampField(source="conversion.created_at")

    @extend_schema_field(ReferralRewardSerializer(allow_null=True))
    def get_referral_reward(self, outcome: ConversionOutcome) -> dict | None:
        referral = outcome.referral
        if referral is None or referral.reward_transaction is None:
            return None
        return ReferralRewardSerializer(referral).data


class RewardSerializer(serializers.Serializer):
    """A reward of the catalogue and its cost in points."""

    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    description = serializers.CharField()
    points_cost = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["discount_percent", "discount_amount",
                                            "free_product", "gift_card"])  # fmt: skip
    value = serializers.DecimalField(max_digits=10, decimal_places=2)


class RedemptionInSerializer(serializers.Serializer):
    """A customer and the reward they spend settled points on."""

    customer = serializers.UUIDField(help_text="The customer's id.")
    reward = serializers.UUIDField(help_text="The reward's id.")


class VoucherStatusField(serializers.ChoiceField):
    """An active voucher past its date reads as expired before the nightly sweep marks it."""

    def __init__(self, **kwargs):
        super().__init__(choices=["active", "used", "expired", "void"], source="*", **kwargs)

    def to_representation(self, voucher) -> str:
        if voucher.status == "active" and voucher.expires_at <= timezone.now():
            return "expired"
        return voucher.status


class RedemptionVoucherSerializer(serializers.Serializer):
    """The voucher a redemption issued."""

    code = serializers.CharField()
    status = VoucherStatusField()
    expires_at = TimestampField()


class RedemptionSerializer(serializers.Serializer):
    """Points spent on a reward, and the voucher issued for it."""

    id = serializers.UUIDField(source="public_id")
    customer = serializers.UUIDField(source="customer.public_id")
    reward = serializers.UUIDField(source="reward.public_id")
    points_spent = serializers.IntegerField()
    voucher = RedemptionVoucherSerializer()


class VoucherSerializer(serializers.Serializer):
    """A voucher: its reward, its customer and whether it can still be used."""

    code = serializers.CharField()
    status = VoucherStatusField()
    reward = serializers.UUIDField(source="reward.public_id")
    customer = serializers.UUIDField(source="customer.public_id")
    expires_at = TimestampField()


class VoucherUseSerializer(serializers.Serializer):
    """The order a voucher is used for."""

    order_id = serializers.CharField(max_length=255)


class ReviewQuerySerializer(serializers.Serializer):
    """Filters of the reviews feed."""

    subject = serializers.SlugField(required=False, help_text="Only reviews of this subject.")
    min_rating = serializers.IntegerField(required=False, min_value=1, max_value=5)


class ReviewSummaryQuerySerializer(serializers.Serializer):
    """The subject to summarise."""

    subject = serializers.SlugField()


class ReviewReplySerializer(serializers.Serializer):
    """The business's public reply to a review."""

    body = serializers.CharField()
    author = serializers.CharField(source="author_name")
    created_at = TimestampField()


class ReviewSerializer(serializers.Serializer):
    """A published review, with its photos and the business's reply (null if none)."""

    id = serializers.UUIDField(source="public_id")
    subject = serializers.SlugField(source="subject.slug")
    rating = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    author = serializers.CharField(
        source="author_display", help_text="First name and last initial."
    )
    verified_purchase = serializers.BooleanField()
    photos = serializers.SerializerMethodField()
    reply = ReviewReplySerializer(source="public_reply", allow_null=True)
    helpful_count = serializers.IntegerField()
    created_at = TimestampField()

    def get_photos(self, review) -> list[str]:
        """Absolute URLs: the widget shows them on the partner's own site."""
        return [url if "://" in url else settings.SITE_URL + url for url in review.photo_urls]


class QuestionQuerySerializer(serializers.Serializer):
    """Filters of the questions feed."""

    subject = serializers.SlugField(required=False, help_text="Only questions about this subject.")


class AnswerSerializer(serializers.Serializer):
    """A published answer to a customer's question, with who gave it."""

    id = serializers.UUIDField(source="public_id")
    body = serializers.CharField()
    author = serializers.CharField(
        source="author_display", help_text="First name and last initial."
    )
    label = serializers.SerializerMethodField(
        help_text='"staff", "bought" (bought the subject) or null.'
    )
    incentivised = serializers.BooleanField(help_text="The author received points for it.")
    helpful_count = serializers.IntegerField()
    created_at = TimestampField()

    def get_label(self, answer) -> str | None:
        if answer.by_staff:
            return "staff"
        return "bought" if answer.bought else None


class QuestionSerializer(serializers.Serializer):
    """A published question about a subject, with its published answers."""

    id = serializers.UUIDField(source="public_id")
    subject = serializers.SlugField(source="subject.slug")
    body = serializers.CharField()
    author = serializers.CharField(
        source="author_display", help_text="First name and last initial."
    )
    answers = AnswerSerializer(
        source="published_answers",
        many=True,
        help_text="Published answers: staff first, then the most helpful.",
    )
    created_at = TimestampField()


class ReviewDistributionSerializer(serializers.Serializer):
    """How many published reviews gave each number of stars."""

    def get_fields(self):
        return {str(stars): serializers.IntegerField() for stars in range(1, 6)}


class ReviewSummarySerializer(serializers.Serializer):
    """A subject's published reviews in numbers."""

    subject = serializers.SlugField()
    count = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True, help_text="2 decimals; null if none.")
    distribution = ReviewDistributionSerializer()


class DataRequestSerializer(serializers.Serializer):
    """A request for an archive of a customer's data; it is emailed to the customer."""

    id = serializers.UUIDField(source="public_id")
    status = serializers.CharField(
        help_text="queued, building, ready or failed; the archive is emailed to the customer."
    )
    progress = serializers.IntegerField(help_text="Percent done.")
    created_at = TimestampField()


class RedactionSerializer(serializers.Serializer):
    """A customer was erased (own site) or your link to them ended (merchant)."""

    id = serializers.UUIDField()
    redacted = serializers.BooleanField()


# Webhooks: the body of every event is an envelope around the event's `data`.


class CustomerLinkDataSerializer(serializers.Serializer):
    """The customer whose link to you changed, and your id for them."""

    customer = serializers.UUIDField(help_text="The customer's id (GET /customers/{id}/).")
    external_id = serializers.CharField()


class CustomerLinkEndedDataSerializer(CustomerLinkDataSerializer):
    """The customer whose link to you ended, and why."""

    reason = serializers.ChoiceField(
        choices=["declined", "unanswered", "redacted"],
        help_text="declined: the person said no; unanswered: no answer within 30 days; "
        "redacted: you erased them.",
    )


class ReferralHoldSerializer(serializers.Serializer):
    """The referrer's reward, held until `settles_at`."""

    points = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["pending", "posted", "voided"])
    settles_at = TimestampField(allow_null=True)


class ReferralQualifiedDataSerializer(serializers.Serializer):
    """A purchase of the friend qualified their referral."""

    referral = serializers.UUIDField()
    referrer = serializers.UUIDField(help_text="The referrer's customer id.")
    customer = serializers.UUIDField(help_text="The friend's customer id.")
    conversion = serializers.UUIDField(allow_null=True, help_text="The qualifying purchase.")
    reward = ReferralHoldSerializer(allow_null=True)


class PointsChangeDataSerializer(serializers.Serializer):
    """A change of the customer's points that you did not make yourself: fetch the
    customer (GET /customers/{id}/) for the balance after it."""

    transaction = serializers.UUIDField(
        help_text="The transaction's id, as in GET /customers/{id}/transactions/."
    )
    customer = serializers.UUIDField()
    kind = serializers.CharField(help_text="The transaction's kind (earn, referral_reward, ...).")
    status = serializers.ChoiceField(choices=["pending", "posted", "voided"])
    points = serializers.IntegerField(
        help_text="Signed, from the customer's side: negative when points were taken back."
    )
    memo = serializers.CharField(allow_blank=True, help_text="Empty for a merchant.")
    settled_at = TimestampField(allow_null=True, help_text="When the points were posted.")
    voided_at = TimestampField(allow_null=True, help_text="When held points were voided.")


class VoucherIssuedDataSerializer(serializers.Serializer):
    """A voucher issued to a customer (a redemption in the portal, a gift)."""

    code = serializers.CharField()
    status = serializers.ChoiceField(choices=["active", "used", "expired", "void"])
    reward = serializers.UUIDField()
    customer = serializers.UUIDField()
    expires_at = TimestampField()


class ReviewPublishedDataSerializer(serializers.Serializer):
    """A customer's review that was published."""

    review = serializers.UUIDField()
    subject = serializers.SlugField()
    customer = serializers.UUIDField()
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(allow_blank=True)
    verified_purchase = serializers.BooleanField()


def _event_serializer(
    name: str, event_type: str, data: type[serializers.Serializer], description: str
):
    """The envelope of one event type, `type` fixed to it, `data` its shape."""

    @extend_schema_field({"type": "string", "enum": [event_type]})
    class EventTypeField(serializers.CharField):
        pass

    fields = {
        "__doc__": description,
        "event_type": event_type,
        "id": serializers.UUIDField(
            help_text="The event's id: the same on every attempt; drop duplicates by it."
        ),
        "type": EventTypeField(),
        "created_at": TimestampField(
            help_text="When the change happened (written with it): order a customer's "
            "events by it, since deliveries may arrive out of order."
        ),
        "data": data(),
    }
    return extend_schema_serializer(component_name=name)(
        type(f"{name}Serializer", (serializers.Serializer,), fields)
    )


CustomerLinkedEventSerializer = _event_serializer(
    "CustomerLinkedEvent",
    "customer.linked",
    CustomerLinkDataSerializer,
    "The person said yes to your (a merchant's) link: you now see the whole customer.",
)
CustomerLinkEndedEventSerializer = _event_serializer(
    "CustomerLinkEndedEvent",
    "customer.link_ended",
    CustomerLinkEndedDataSerializer,
    "Your (a merchant's) link to the customer ended; they now answer 404.",
)
ReferralQualifiedEventSerializer = _event_serializer(
    "ReferralQualifiedEvent",
    "referral.qualified",
    ReferralQualifiedDataSerializer,
    "A purchase qualified a referral; sent once to a partner linked to either side.",
)
RewardSettledEventSerializer = _event_serializer(
    "RewardSettledEvent",
    "reward.settled",
    PointsChangeDataSerializer,
    "Held points settled and can be spent.",
)
RewardVoidedEventSerializer = _event_serializer(
    "RewardVoidedEvent",
    "reward.voided",
    PointsChangeDataSerializer,
    "Held points were voided (a refund before they settled, a declined link).",
)
RewardReversedEventSerializer = _event_serializer(
    "RewardReversedEvent",
    "reward.reversed",
    PointsChangeDataSerializer,
    "Settled points were taken back (a refund after they settled, a staff correction); "
    "`points` is negative.",
)
VoucherIssuedEventSerializer = _event_serializer(
    "VoucherIssuedEvent",
    "voucher.issued",
    VoucherIssuedDataSerializer,
    "A voucher was issued to a customer.",
)
ReviewPublishedEventSerializer = _event_serializer(
    "ReviewPublishedEvent", "review.published", ReviewPublishedDataSerializer,
    "A customer's review was published.",
)  # fmt: skip
