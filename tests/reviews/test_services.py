from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from core.images import process_image
from reviews.alerts import feedback_alert_send
from reviews.models import FeedbackAlert, HelpfulVote, Review, ReviewPhoto, ReviewPolicy, Subject
from reviews.selectors import published_reviews, review_summary
from reviews.services import (
    ReviewError,
    helpful_vote_add,
    review_create,
    review_publish,
    review_reject,
    review_reply_set,
    review_update,
)
from reviews.signals import review_published
from tests.factories import ContactPersonFactory, CustomerFactory, purchase
from tests.reviews.factories import ReviewFactory, SubjectFactory, photo_upload

pytestmark = pytest.mark.django_db


def _write(customer=None, subject=None, **fields):
    values = {"rating": 4, "title": "Nice", "body": "Lovely beans.", **fields}
    return review_create(
        author=customer or CustomerFactory(), subject=subject or SubjectFactory(), **values
    )


def _policy(**fields):
    policy = ReviewPolicy.current()
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()
    return policy


@pytest.fixture
def published_signals():
    received = []

    def receiver(sender, review, **kwargs):
        received.append(review.pk)

    review_published.connect(receiver)
    yield received
    review_published.disconnect(receiver)


def test_a_new_review_waits_for_moderation_and_is_not_public(published_signals):
    review = _write(rating=5)
    assert review.status == Review.Status.PENDING
    assert list(published_reviews()) == []
    assert review_summary(subject_slug=review.subject.slug)["count"] == 0
    assert published_signals == []


def test_auto_publish_takes_only_four_and_five_stars(published_signals):
    _policy(auto_publish_high_ratings=True)
    subject = SubjectFactory()
    statuses = {rating: _write(subject=subject, rating=rating).status for rating in (1, 2, 3, 4, 5)}
    assert statuses == {
        1: "pending",
        2: "pending",
        3: "pending",
        4: "published",
        5: "published",
    }
    assert len(published_signals) == 2


def test_banned_words_flag_a_review_and_keep_it_from_auto_publishing():
    _policy(auto_publish_high_ratings=True, banned_words="scam\nbuy followers\n")
    review = _write(rating=5, body="Great, not a SCAM at all. Buy followers here!")
    assert review.status == Review.Status.PENDING
    assert review.flagged_words == "scam, buy followers"
    clean = _write(rating=5, body="Scampi? No, coffee.")
    assert clean.flagged_words == "" and clean.status == Review.Status.PUBLISHED


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"body": "   "}, "body"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_review_input_is_refused_and_nothing_is_stored(fields, field):
    with pytest.raises(ValidationError) as error:
        _write(**fields)
    assert field in error.value.message_dict
    assert not Review.objects.exists()


def test_more_than_five_photos_are_refused():
    photos = [process_image(photo_upload()) for _ in range(6)]
    with pytest.raises(ValidationError) as error:
        _write(photos=photos)
    assert "photos" in error.value.message_dict
    assert not Review.objects.exists() and not ReviewPhoto.objects.exists()


def test_a_second_review_of_the_same_subject_is_refused():
    customer, subject = CustomerFactory(), SubjectFactory()
    _write(customer=customer, subject=subject)
    with pytest.raises(ReviewError) as error:
        _write(customer=customer, subject=subject, title="Again")
    assert error.value.code == "already_reviewed"
    assert Review.objects.count() == 1


def test_a_closed_subject_takes_no_reviews():
    with pytest.raises(ReviewError):
        _write(subject=SubjectFactory(is_active=False))
    assert not Review.objects.exists()


def test_an_edit_goes_back_to_moderation_and_changes_photos():
    review = _write(photos=[process_image(photo_upload()) for _ in range(2)])
    review_publish(review=review, by=None)
    first = review.photos.first()
    review_update(
        review=review,
        rating=3,
        title="Second thoughts",
        body="Still good, less exciting.",
        add_photos=[process_image(photo_upload())],
        remove_photo_ids=[first.pk],
    )
    review.refresh_from_db()
    assert review.status == Review.Status.PENDING and review.rating == 3
    assert review.photos.count() == 2 and not review.photos.filter(pk=first.pk).exists()


def test_an_edit_cannot_bring_photos_above_five():
    review = _write(photos=[process_image(photo_upload()) for _ in range(4)])
    with pytest.raises(ValidationError):
        review_update(
            review=review,
            rating=4,
            title="More",
            body="More photos.",
            add_photos=[process_image(photo_upload()) for _ in range(2)],
        )
    review.refresh_from_db()
    assert review.photos.count() == 4 and review.title == "Nice"


def test_publishing_twice_sends_one_signal_and_enqueues_points_after_commit(
    published_signals, django_capture_on_commit_callbacks
):
    review = _write()
    with django_capture_on_commit_callbacks() as callbacks:
        assert review_publish(review=review, by=None) is True
        assert review_publish(review=review, by=None) is False
    assert published_signals == [review.pk]
    enqueued = [call for call in callbacks if "enqueue_after_commit" in call.__qualname__]
    assert len(enqueued) == 1


def test_rejecting_needs_a_reason_the_author_can_read():
    staff = CustomerFactory().user
    review = _write()
    with pytest.raises(ValidationError):
        review_reject(review=review, by=staff, reason="  ")
    review.refresh_from_db()
    assert review.status == Review.Status.PENDING
    review_reject(review=review, by=staff, reason="Please leave out the phone number.")
    review.refresh_from_db()
    assert review.status == Review.Status.REJECTED
    assert review.rejection_reason == "Please leave out the phone number."


@pytest.mark.parametrize(
    ("conversion_slug", "verified"),
    [("house-blend", True), ("", True), ("decaf", False), (None, False)],
    ids=["names-the-subject", "names-nothing", "names-another-subject", "no-purchase"],
)
def test_verified_purchase_follows_the_customers_conversions(conversion_slug, verified):
    customer = CustomerFactory()
    subject = SubjectFactory(slug="house-blend")
    if conversion_slug is not None:
        purchase(customer, subject_slug=conversion_slug)
    assert _write(customer=customer, subject=subject).verified_purchase is verified


def test_helpful_votes_once_per_customer_and_never_on_ones_own_review():
    review = ReviewFactory()
    voter = CustomerFactory()
    assert helpful_vote_add(review=review, customer=voter) == 1
    with pytest.raises(ReviewError, match="already"):
        helpful_vote_add(review=review, customer=voter)
    with pytest.raises(ReviewError, match="own review"):
        helpful_vote_add(review=review, customer=review.author)
    pending = ReviewFactory(status=Review.Status.PENDING)
    with pytest.raises(ReviewError, match="not published"):
        helpful_vote_add(review=pending, customer=voter)
    review.refresh_from_db()
    assert review.helpful_count == 1 and HelpfulVote.objects.count() == 1


def test_a_low_rating_raises_one_alert_emailed_to_contact_person_and_staff(django_user_model):
    django_user_model.objects.create_user(email="boss@example.com", is_staff=True)
    contact = ContactPersonFactory(email="sam@example.com")
    customer = CustomerFactory(contact_person=contact)
    review = _write(customer=customer, rating=1, body="<b>Cold</b> coffee.")
    review_update(review=review, rating=2, title="Still bad", body="Cold again.")
    alert = FeedbackAlert.objects.get()
    assert alert.kind == FeedbackAlert.Kind.LOW_RATING and alert.review == review
    # Emailed with the alert; the edit raised no second one, and a repeat sends nothing.
    assert feedback_alert_send(alert_id=alert.pk) is False
    assert sorted(m.to[0] for m in mail.outbox) == ["boss@example.com", "sam@example.com"]
    assert "1-star" in mail.outbox[0].subject or "2-star" in mail.outbox[0].subject


def test_alert_recipients_listed_in_the_policy_replace_all_staff(django_user_model):
    django_user_model.objects.create_user(email="boss@example.com", is_staff=True)
    _policy(alert_recipients="care@example.com\n")
    _write(customer=CustomerFactory(contact_person=None), rating=2)
    assert [m.to for m in mail.outbox] == [["care@example.com"]]


def test_a_staff_reply_is_one_per_review_and_answers_its_alert(django_user_model):
    staff = django_user_model.objects.create_user(
        email="sam@example.com", first_name="Sam", last_name="Rivera", is_staff=True
    )
    review = _write(rating=2)
    review_reply_set(review=review, author=staff, body="Sorry! We'll fix it.")
    reply = review_reply_set(review=review, author=staff, body="Sorry! A new bag is on its way.")
    assert review.__class__.objects.get(pk=review.pk).reply.body == reply.body
    assert reply.author_name == "Sam Rivera"
    ContactPersonFactory(user=staff, name="Sam from care")
    reply.author.refresh_from_db()
    assert review.__class__.objects.get(pk=review.pk).reply.author_name == "Sam from care"
    alert = FeedbackAlert.objects.get()
    assert alert.status == FeedbackAlert.Status.ANSWERED and alert.answered_by == staff


def test_customers_cannot_reply_for_the_business():
    review = _write()
    with pytest.raises(ReviewError):
        review_reply_set(review=review, author=CustomerFactory().user, body="Fake reply")
    assert not Review.objects.filter(reply__isnull=False).exists()


def test_published_reviews_filter_and_order_newest_first():
    subject = SubjectFactory(slug="beans")
    old = ReviewFactory(subject=subject, rating=5)
    new = ReviewFactory(subject=subject, rating=2)
    ReviewFactory(subject=subject, status=Review.Status.PENDING)
    ReviewFactory(subject=subject, status=Review.Status.REJECTED)
    ReviewFactory(rating=5)
    assert list(published_reviews(subject_slug="beans")) == [new, old]
    assert list(published_reviews(subject_slug="beans", min_rating=4)) == [old]
    assert len(published_reviews()) == 3
    assert new.public_reply is None


def test_published_reviews_cost_the_same_queries_for_one_or_many(
    django_assert_num_queries, django_user_model
):
    staff = django_user_model.objects.create_user(email="s@example.com", is_staff=True)
    ContactPersonFactory(user=staff)

    def read():
        return [
            (
                r.author_display,
                r.subject.slug,
                r.photo_urls,
                r.public_reply.author_name if r.public_reply else None,
            )
            for r in published_reviews()
        ]

    def add_review():
        review = ReviewFactory()
        review_reply_set(review=review, author=staff, body="Thanks!")
        photo = process_image(photo_upload())
        stored = ReviewPhoto(review=review)
        stored.image.save(photo.image.name, photo.image, save=False)
        stored.thumbnail.save(photo.thumbnail.name, photo.thumbnail, save=False)
        stored.save()

    add_review()
    with django_assert_num_queries(2):
        read()
    for _ in range(4):
        add_review()
    with django_assert_num_queries(2):
        assert len(read()) == 5


def test_review_summary_counts_published_reviews_only():
    subject = SubjectFactory(slug="beans")
    for rating in (5, 5, 4, 1):
        ReviewFactory(subject=subject, rating=rating)
    ReviewFactory(subject=subject, rating=1, status=Review.Status.PENDING)
    summary = review_summary(subject_slug="beans")
    assert summary == {
        "subject": "beans",
        "count": 4,
        "average": 3.75,
        "distribution": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 2},
    }
    empty = review_summary(subject_slug=SubjectFactory(slug="new").slug)
    assert empty["count"] == 0 and empty["average"] is None
    with pytest.raises(Subject.DoesNotExist):
        review_summary(subject_slug="no-such-thing")


def test_author_is_shown_as_first_name_and_initial():
    review = ReviewFactory(author=CustomerFactory(first_name="Anna", last_name="Kim"))
    assert review.author_display == "Anna K."
