from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from reviews.models import HelpfulVote, Review, ReviewPhoto, ReviewPolicy
from reviews.services import review_reply_set
from tests.factories import ContactPersonFactory, CustomerFactory
from tests.reviews.factories import ReviewFactory, SubjectFactory, photo_upload

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)><b>bold</b>'


@pytest.fixture
def customer_client(client):
    customer = CustomerFactory(first_name="Anna", last_name="Kim")
    client.force_login(customer.user)
    client.customer = customer
    return client


def _form(**fields):
    return {"rating": "4", "title": "Nice", "body": "Lovely beans.", **fields}


def test_visitors_see_published_reviews_only(client):
    subject = SubjectFactory()
    ReviewFactory(subject=subject, title="Out in public")
    ReviewFactory(subject=subject, title="Still waiting", status=Review.Status.PENDING)
    ReviewFactory(subject=subject, title="Turned down", status=Review.Status.REJECTED)
    page = client.get(reverse("reviews:subject", args=[subject.slug])).content.decode()
    assert "Out in public" in page
    assert "Still waiting" not in page and "Turned down" not in page
    assert "1 review" in page


def test_an_unknown_subject_is_404(client):
    assert client.get(reverse("reviews:subject", args=["nothing-here"])).status_code == 404


def test_hostile_text_is_escaped_on_every_page(customer_client, client):
    subject = SubjectFactory()
    review = ReviewFactory(
        subject=subject, author=customer_client.customer, title=HOSTILE, body=HOSTILE
    )
    for path in [reverse("reviews:subject", args=[subject.slug]), reverse("reviews:mine")]:
        page = customer_client.get(path).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold" not in page
        assert "&lt;script&gt;" in page
    Review.objects.filter(pk=review.pk).update(
        status=Review.Status.REJECTED, rejection_reason=HOSTILE
    )
    page = customer_client.get(reverse("reviews:write", args=[subject.slug])).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_a_customer_writes_a_review_with_photos_and_sees_it_waiting(customer_client):
    subject = SubjectFactory()
    response = customer_client.post(
        reverse("reviews:write", args=[subject.slug]),
        _form(photos=[photo_upload("a.jpg"), photo_upload("b.png", fmt="PNG")]),
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.author == customer_client.customer and review.photos.count() == 2
    page = customer_client.get(response.url).content.decode()
    assert "Waiting for moderation" in page and "will appear once we have read it" in page
    public = customer_client.get(reverse("reviews:subject", args=[subject.slug])).content.decode()
    assert "No published reviews yet" in public


def test_an_auto_published_review_says_so(customer_client):
    ReviewPolicy.objects.update_or_create(pk=1, defaults={"auto_publish_high_ratings": True})
    subject = SubjectFactory()
    response = customer_client.post(
        reverse("reviews:write", args=[subject.slug]), _form(rating="5"), follow=True
    )
    assert "Your review is published" in response.content.decode()


def _bad_image(kind: str) -> SimpleUploadedFile:
    if kind == "text":
        return SimpleUploadedFile("notes.jpg", b"plain text, not a photo\n" * 20)
    if kind == "gif":
        buffer = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buffer, format="GIF")
        return SimpleUploadedFile("anim.gif", buffer.getvalue())
    return SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff" + os.urandom(6 * 1024 * 1024))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rating": "7"}, "Select a valid choice"),
        ({"rating": ""}, "This field is required"),
        ({"body": "   "}, "This field is required"),
        ({"photos": [_bad_image("text")]}, "not a readable photo"),
        ({"photos": [_bad_image("gif")]}, "JPEG, PNG or WebP"),
        ({"photos": [_bad_image("huge")]}, "larger than 5 MB"),
        ({"photos": [photo_upload() for _ in range(6)]}, "at most 5 photos"),
    ],
    ids=["rating-7", "no-rating", "empty-text", "not-an-image", "gif", "oversize", "six-photos"],
)
def test_bad_input_is_refused_with_a_message_and_nothing_stored(
    customer_client, settings, fields, message
):
    subject = SubjectFactory()
    response = customer_client.post(reverse("reviews:write", args=[subject.slug]), _form(**fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Review.objects.exists() and not ReviewPhoto.objects.exists()
    media = settings.MEDIA_ROOT
    assert not os.path.exists(media) or not any(files for _, _, files in os.walk(media))


def test_a_second_visit_edits_the_one_review_and_sends_it_back_to_moderation(customer_client):
    subject = SubjectFactory()
    review = ReviewFactory(subject=subject, author=customer_client.customer, title="First take")
    url = reverse("reviews:write", args=[subject.slug])
    assert 'value="First take"' in customer_client.get(url).content.decode()
    customer_client.post(url, _form(title="Second take", rating="2"))
    assert Review.objects.count() == 1
    review.refresh_from_db()
    assert review.title == "Second take" and review.status == Review.Status.PENDING


def test_the_author_sees_why_a_review_was_rejected(customer_client):
    subject = SubjectFactory()
    ReviewFactory(
        subject=subject,
        author=customer_client.customer,
        status=Review.Status.REJECTED,
        rejection_reason="Please remove the phone number.",
    )
    assert (
        "Please remove the phone number."
        in customer_client.get(reverse("reviews:mine")).content.decode()
    )
    assert (
        "Please remove the phone number."
        in customer_client.get(reverse("reviews:write", args=[subject.slug])).content.decode()
    )


def test_writing_needs_a_login(client):
    subject = SubjectFactory()
    response = client.post(reverse("reviews:write", args=[subject.slug]), _form())
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not Review.objects.exists()


def test_helpful_votes_from_the_page_once_and_not_on_ones_own(customer_client):
    other = ReviewFactory()
    own = ReviewFactory(subject=other.subject, author=customer_client.customer)
    vote = reverse("reviews:helpful", args=[other.public_id])
    customer_client.post(vote)
    response = customer_client.post(vote, follow=True)
    assert "already found this review helpful" in response.content.decode()
    response = customer_client.post(reverse("reviews:helpful", args=[own.public_id]), follow=True)
    assert "can&#x27;t vote on your own review" in response.content.decode()
    assert list(HelpfulVote.objects.values_list("review_id", flat=True)) == [other.pk]
    other.refresh_from_db()
    assert other.helpful_count == 1


def test_sorting_and_pages(client):
    subject = SubjectFactory()
    for number in range(12):
        ReviewFactory(subject=subject, rating=number % 5 + 1, title=f"Review number {number:02d}")
    url = reverse("reviews:subject", args=[subject.slug])
    newest = client.get(url).content.decode()
    assert "Review number 11" in newest and "Review number 00" not in newest
    assert "Page 1 of 2" in newest
    second = client.get(url, {"page": 2}).content.decode()
    assert "Review number 00" in second
    lowest = client.get(url, {"sort": "lowest"}).content.decode()
    assert lowest.index("1 out of 5 stars") < lowest.index("4 out of 5 stars")
    assert "5 out of 5 stars" not in lowest, "the two 5-star reviews are on page 2"
    helpful = ReviewFactory(subject=subject, helpful_count=9, title="Most useful one")
    top = client.get(url, {"sort": "helpful"}).content.decode()
    assert top.index(helpful.title) < top.index("Review number 11")
    assert client.get(url, {"sort": "<script>", "page": "x"}).status_code == 200


def test_distribution_chart_and_average(client):
    subject = SubjectFactory()
    for rating in (5, 5, 4, 1):
        ReviewFactory(subject=subject, rating=rating)
    page = client.get(reverse("reviews:subject", args=[subject.slug])).content.decode()
    assert "3.8 out of 5 from 4 reviews" in page
    assert '<rect width="100"' in page and '<rect width="50"' in page


def test_a_reply_shows_the_staff_members_name_and_photo(client, django_user_model):
    staff = django_user_model.objects.create_user(email="sam@example.com", is_staff=True)
    contact = ContactPersonFactory(user=staff, name="Sam Rivera", role="Customer care")
    contact.photo_thumbnail.save("sam.jpg", photo_upload(), save=True)
    review = ReviewFactory()
    review_reply_set(review=review, author=staff, body=HOSTILE)
    page = client.get(reverse("reviews:subject", args=[review.subject.slug])).content.decode()
    assert "Reply from Sam Rivera" in page and "Customer care" in page
    assert contact.photo_thumbnail.url in page
    assert "<script>alert" not in page


def test_incentivised_and_verified_reviews_carry_their_labels(client):
    review = ReviewFactory(incentivised=True, verified_purchase=True)
    plain = ReviewFactory(subject=review.subject)
    page = client.get(reverse("reviews:subject", args=[review.subject.slug])).content.decode()
    assert page.count("Received points for reviewing") == 1
    assert page.count("Verified purchase") == 1
    assert plain.title in page


def test_the_reviews_index_lists_subjects_and_the_nav_links_to_it(client):
    SubjectFactory(name="House Blend")
    page = client.get(reverse("reviews:subject_list")).content.decode()
    assert "House Blend" in page and "No reviews yet" in page
    home = client.get("/").content.decode()
    assert reverse("reviews:subject_list") in home
