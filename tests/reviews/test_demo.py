import pytest
from django.core.management import call_command
from django.urls import reverse

from reviews.models import Answer, Question, Review, ReviewReply, Subject

pytestmark = pytest.mark.django_db


def test_demo_reviews_are_idempotent_and_visible(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (Subject.objects.count(), Review.objects.count(), ReviewReply.objects.count())
    call_command("seed_demo")
    assert (Subject.objects.count(), Review.objects.count(), ReviewReply.objects.count()) == counts
    assert counts == (3, 4, 1)
    assert not Review.objects.exclude(status=Review.Status.PUBLISHED).exists()
    page = client.get(reverse("reviews:subject", args=["house-blend"])).content.decode()
    assert "Reply from Sam Rivera" in page and "Arrived stale" in page
    assert "Does it work in a moka pot?" in page and "grind a little coarser" in page
    assert Question.objects.count() == 1 == Answer.objects.count()
