from __future__ import annotations

import io
import itertools
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from customers.conversions import conversion_record
from reviews.models import Review, Subject
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


_order_numbers = itertools.count(1000)


def conversion_for(customer, *, subject_slug: str = "", occurred_at=None, order_id=None):
    return conversion_record(
        customer=customer,
        channel="shop",
        order_id=order_id or f"A-{next(_order_numbers)}",
        amount=Decimal("20.00"),
        currency="EUR",
        occurred_at=occurred_at,
        subject_slug=subject_slug,
    )
