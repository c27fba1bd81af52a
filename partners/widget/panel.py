"""What the widget shows, read in one go per request: the panel and the reviews block.

Everything here is what the shop's page may show: the signed-out panel holds only the
program's public offer; the signed-in one only the customer a valid token names.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from core.process_cache import cached_rows, forget_on_change
from customers.models import Customer
from customers.selectors import referral_url
from loyalty.models import Account, Reward, Transaction
from loyalty.selectors import LEDGER_FRAGMENT_SECONDS, Balance, active_rewards, customer_history
from loyalty.tiers import tier_progress_placed
from referrals.models import ReferralProgram
from referrals.selectors import program_active, referrer_by_code
from referrals.sharing import share_links
from reviews.models import Answer, Question, Review, Subject
from reviews.selectors import published_questions, published_reviews, review_summary

AFFORDABLE_REWARDS = 6
LATEST_ACTIVITY = 5
REVIEWS_PER_PAGE = 5


def _strings() -> dict[str, str]:
    """The panel's words in the active language (the script carries none of its own)."""
    return _strings_in(translation.get_language())


@functools.lru_cache(maxsize=len(settings.LANGUAGES))
def _strings_in(language: str) -> dict[str, str]:
    # Every panel asks for the same forty words: made once per language and process.
    return {
        "open": _("Rewards"),
        "close": _("Close"),
        "title": _("%(business)s rewards") % {"business": settings.BUSINESS_NAME},
        "join": _("Join and earn points"),
        "signed_out": _(
            "Earn points with every purchase and get rewards. Invite friends: "
            "you both get a thank-you."
        ),
        "friend_offer": _("%(name)s invites you: %(offer)s"),
        "points": _("Points"),
        "pending": _("pending"),
        "tier": _("Tier"),
        "to_next": _("%(points)s points to %(tier)s"),
        "referral_link": _("Your referral link"),
        "copy": _("Copy link"),
        "copied": _("Copied"),
        "share": _("Share"),
        "your_friends_get": _("Your friends get: %(offer)s"),
        "rewards": _("Rewards you can have"),
        "no_rewards": _("No reward within your points yet: keep collecting."),
        "redeem": _("Redeem"),
        "confirm": _("Redeem %(reward)s for %(points)s points?"),
        "yes": _("Yes, redeem"),
        "cancel": _("Cancel"),
        "voucher": _("Done! Your voucher code is %(code)s."),
        "failed": _("We could not redeem it: %(error)s"),
        "activity": _("Latest activity"),
        "no_activity": _(
            "Nothing yet: your points appear here after your first purchase or a friend's."
        ),
        "reviews": _("Reviews"),
        "no_reviews": _("No reviews yet."),
        "incentivised": _("Received a reward for this review"),
        "verified": _("Verified purchase"),
        "reply": _("Reply from %(name)s"),
        "more": _("More reviews"),
        "questions": _("Questions and answers"),
        "no_questions": _("No questions yet."),
        "ask": _("Ask a question"),
        "staff": pgettext("answer label", "Staff"),
        "bought": _("Bought this"),
        "answer_incentivised": _("Received points for answering"),
        "offline": _("Rewards are not available right now."),
    }


OFFER_KEY = "widget:offer"
# Every panel shows the program's offer: a staff change to it shows within this many seconds
# in other processes (at once in the one that saved it), and a program's start or end too.
OFFER_CACHE_SECONDS = 10
forget_on_change(ReferralProgram, OFFER_KEY)


def _read_offer() -> dict:
    program = program_active()
    if program is None:
        return {"referrer_points": 0, "friend": ""}
    return {"referrer_points": program.referrer_points, "friend": program.friend_offer}


def _offer() -> dict:
    return cached_rows(OFFER_KEY, _read_offer, seconds=OFFER_CACHE_SECONDS)


def _referral(code: str, offer: dict) -> dict | None:
    referrer = referrer_by_code(code=code) if code else None
    if referrer is None:
        return None
    return {
        "code": referrer.referral_code,
        "first_name": referrer.first_name,
        "offer": offer["friend"],
        "url": referral_url(customer=referrer),
    }


@functools.lru_cache(maxsize=len(settings.LANGUAGES))
def _kind_labels(language: str) -> dict[str, str]:
    # `get_kind_display` hashes every lazy label on each call: once per language instead.
    return {kind: str(label) for kind, label in Transaction.Kind.choices}


CATALOG_KEY = "widget:catalog"
# The catalog is the same for every panel: a reward sold out meanwhile is refused at
# redemption (409 reward_unavailable), and staff edits show at once in the saving process.
CATALOG_CACHE_SECONDS = 10
forget_on_change(Reward, CATALOG_KEY)


def _read_catalog() -> list[dict]:
    return [
        {
            "id": str(reward.public_id),
            "name": reward.name,
            "description": reward.description,
            "points": reward.points_cost,
        }
        for reward in active_rewards().order_by("points_cost", "pk")
    ]


def _catalog() -> list[dict]:
    """The active catalog as the panel shows it, cheapest first."""
    return cached_rows(CATALOG_KEY, _read_catalog, seconds=CATALOG_CACHE_SECONDS)


def _read_activity(customer: Customer) -> list[dict]:
    entries = customer_history(customer=customer).only(
        "amount", "transaction__kind", "transaction__status", "transaction__created_at"
    )[:LATEST_ACTIVITY]
    labels = _kind_labels(translation.get_language())
    return [
        {
            "date": date_format(entry.transaction.created_at, "DATE_FORMAT"),
            "what": labels[entry.transaction.kind],
            "points": entry.amount,
            "pending": entry.transaction.status == entry.transaction.Status.PENDING,
        }
        for entry in entries
    ]


def _activity(customer: Customer, account: Account | None) -> list[dict]:
    """The latest activity, cached under the version of the customer's ledger that the
    account row read along carries: a posting, settlement or void shows at once."""
    if account is None:
        return []
    version = Balance(
        settled=account.settled_balance,
        pending=account.pending_balance,
        changed_at=account.last_activity_at,
    ).version
    key = f"widget:activity:{customer.pk}:{version}:{translation.get_language()}"
    activity = cache.get(key)
    if activity is None:
        activity = _read_activity(customer)
        cache.set(key, activity, LEDGER_FRAGMENT_SECONDS)
    return activity


def _member(customer: Customer, offer: dict) -> dict:
    account = getattr(customer, "points_account", None)
    settled = account.settled_balance if account else 0
    pending = account.pending_balance if account else 0
    progress = tier_progress_placed(customer=customer, account=account)
    url = referral_url(customer=customer)
    first_name = customer.first_name
    rewards = [reward for reward in _catalog() if reward["points"] <= settled]
    return {
        "first_name": first_name,
        "points": {"settled": settled, "pending": pending},
        "tier": {
            "name": progress.tier.name if progress.tier else "",
            "next": progress.next_tier.name if progress.next_tier else "",
            "points_to_next": progress.points_to_next,
            "percent": progress.percent,
        },
        "referral": {
            "code": customer.referral_code,
            "url": url,
            "share": [
                {"label": label, "url": link}
                for label, link in share_links(url=url, first_name=first_name)
            ],
            "friend_offer": offer["friend"],
        },
        "rewards": rewards[:AFFORDABLE_REWARDS],
        "activity": _activity(customer, account),
    }


def panel_data(*, customer: Customer | None, referral_code: str = "") -> dict:
    """The whole panel in the active language: the offer and sign-up link for a visitor
    (with the friend's offer when they came with a referral code), the member's points,
    tier, referral link, affordable rewards and latest activity when signed in."""
    offer = _offer()
    return {
        "business": {"name": settings.BUSINESS_NAME, "colour": settings.BUSINESS_COLOUR},
        "strings": _strings(),
        "offer": offer,
        "signup_url": settings.SITE_URL + reverse("account_signup"),
        "referral": _referral(referral_code, offer),
        "customer": _member(customer, offer) if customer is not None else None,
    }


def _review(review: Review) -> dict:
    reply = review.public_reply
    return {
        "id": str(review.public_id),
        "rating": review.rating,
        "title": review.title,
        "body": review.body,
        "author": review.author_display,
        "date": date_format(review.published_at or review.created_at, "DATE_FORMAT"),
        "verified_purchase": review.verified_purchase,
        "incentivised": review.incentivised,
        "photos": [
            {
                "thumbnail": settings.SITE_URL + photo.thumbnail.url,
                "image": settings.SITE_URL + photo.image.url,
            }
            for photo in review.photos.all()
        ],
        "reply": {"body": reply.body, "author": reply.author_name} if reply else None,
    }


# The block shows the newest questions; the subject's page (linked) has them all.
QUESTIONS_SHOWN = 3


def _answer(answer: Answer) -> dict:
    return {
        "body": answer.body,
        # A staff member without a name on file answers for the business.
        "author": answer.author_display or (settings.BUSINESS_NAME if answer.by_staff else ""),
        "date": date_format(answer.published_at or answer.created_at, "DATE_FORMAT"),
        "label": "staff" if answer.by_staff else "bought" if answer.bought else None,
        "incentivised": answer.incentivised,
    }


def _question(question: Question) -> dict:
    return {
        "id": str(question.public_id),
        "body": question.body,
        "author": question.author_display,
        "date": date_format(question.created_at, "DATE_FORMAT"),
        "answers": [_answer(answer) for answer in question.published_answers],
    }


SCHEMA_TYPES = {Subject.Kind.PRODUCT: "Product", Subject.Kind.LOCATION: "LocalBusiness"}


def reviews_block(*, subject_slug: str, page: int) -> dict:
    """A subject's rating summary and one page of its newest published reviews, with the
    schema.org AggregateRating a shop may put on its page. `Subject.DoesNotExist` for an
    unknown subject."""
    summary = review_summary(subject_slug=subject_slug)
    subject = Subject.objects.get(slug=subject_slug)
    pages = Paginator(published_reviews(subject_slug=subject_slug), REVIEWS_PER_PAGE)
    shown = pages.get_page(page)
    structured = None
    if summary["count"]:
        structured = {
            "@context": "https://schema.org",
            "@type": SCHEMA_TYPES.get(subject.kind, "Service"),
            "name": subject.name,
            "aggregateRating": {
                "@type": "AggregateRating",
                "ratingValue": summary["average"],
                "reviewCount": summary["count"],
                "bestRating": 5,
                "worstRating": 1,
            },
        }
    average = floatformat(summary["average"], 1) if summary["count"] else ""
    return {
        "subject": {"slug": subject.slug, "name": subject.name},
        "summary": summary,
        "summary_text": ngettext(
            "%(average)s out of 5 from %(counter)s review",
            "%(average)s out of 5 from %(counter)s reviews",
            summary["count"],
        )
        % {"average": average, "counter": summary["count"]},
        "average_text": average,
        "star_labels": {
            str(stars): ngettext("%(counter)s star", "%(counter)s stars", stars)
            % {"counter": stars}
            for stars in range(1, 6)
        },
        "reviews": [_review(review) for review in shown],
        # With the first page only: more reviews load below, the questions stay.
        "questions": [
            _question(question)
            for question in published_questions(subject_slug=subject_slug)[:QUESTIONS_SHOWN]
        ]
        if shown.number == 1
        else [],
        "questions_url": settings.SITE_URL
        + reverse("reviews:subject", args=[subject.slug])
        + "#questions",
        "page": shown.number,
        "pages": pages.num_pages,
        "next_page": shown.next_page_number() if shown.has_next() else None,
        "structured_data": structured,
        "strings": _strings(),
    }
