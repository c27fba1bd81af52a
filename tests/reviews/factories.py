from __future__ import annotations

import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reviews.models import Question, Review, Subject
from tests.factories import CustomerFactory


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    name = factory.Sequence(lambda n: f"Subject {n}")
    slug = factory.Sequence(lambda n: f"subject-{n}")


class ReviewFactory(factory.django.DjangoModelFactory):
    """A review row as given (status included), for reads; writes are tested via services."""

    class Meta:
        model = Review

    subject = factory.SubFactory(SubjectFactory)
    author = factory.LazyFunction(CustomerFactory)
    rating = 4
    title = factory.Sequence(lambda n: f"Review {n}")
    body = "Good coffee, friendly people."
    status = Review.Status.PUBLISHED


def photo_upload(name: str = "photo.jpg", fmt: str = "JPEG", size=(1200, 900)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 80, 40)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


class QuestionFactory(factory.django.DjangoModelFactory):
    """A question row as given (status included), for reads; writes go through services."""

    class Meta:
        model = Question

    subject = factory.SubFactory(SubjectFactory)
    author = factory.LazyFunction(CustomerFactory)
    body = factory.Sequence(lambda n: f"Question {n}: does it work as espresso?")
    status = Question.Status.PUBLISHED
