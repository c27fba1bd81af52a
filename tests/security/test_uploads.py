"""Hostile photos through both upload paths (avatars, review photos): rare formats are
refused, polyglots and bombs never get stored as sent, and media is served with nosniff."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path, re_path, reverse
from django.views.static import serve
from PIL import Image

from customers.models import Customer
from reviews.models import Review, ReviewPhoto
from tests.factories import CustomerFactory
from tests.reviews.factories import SubjectFactory

pytestmark = pytest.mark.django_db

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def _png(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _declared_png(width: int, height: int) -> bytes:
    """A few bytes that claim to be a gigantic PNG: only the header is honest."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0"))


def _psd() -> bytes:
    """A 1x1 RGB Photoshop file (header, empty sections, raw channel data)."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 1, 1, 8, 3)
    return header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + b"\x10\x20\x30"


def _eps() -> bytes:
    return (
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 1 1\n%%EndComments\n"
        b"newpath 0 0 moveto 1 1 lineto stroke\nshowpage\n%%EOF\n"
    )


def _fits() -> bytes:
    cards = ["SIMPLE  =                    T", "BITPIX  =                    8",
             "NAXIS   =                    2", "NAXIS1  =                    1",
             "NAXIS2  =                    1", "END"]  # fmt: skip
    header = "".join(card.ljust(80) for card in cards).ljust(2880).encode()
    return header + b"\x7f".ljust(2880, b"\0")


def test_the_rare_formats_are_what_pillow_sees():
    """The files below are real PSD, EPS and FITS to Pillow, so their refusal is the guard's."""
    for content, kind in [(_psd(), "PSD"), (_eps(), "EPS"), (_fits(), "FITS")]:
        with Image.open(io.BytesIO(content)) as picture:
            assert picture.format == kind


HOSTILE = pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("layers.psd", _psd(), "JPEG, PNG or WebP"),
        ("drawing.eps", _eps(), "JPEG, PNG or WebP"),
        ("sky.fits", _fits(), "JPEG, PNG or WebP"),
        ("bomb.png", _declared_png(100_000, 100_000), "too many pixels"),
        ("wide.png", _declared_png(40_001, 1_000), "too many pixels"),
        ("page.html", HTML, "not a readable photo"),
        ("vector.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
         "not a readable photo"),
    ],
    ids=["psd", "eps", "fits", "bomb", "too-many-pixels", "html", "svg"],
)  # fmt: skip


def _stored(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@HOSTILE
def test_hostile_avatar_is_refused_and_nothing_stored(client, settings, name, content, message):
    customer = CustomerFactory()
    client.force_login(customer.user)
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = client.post(reverse("customers:profile"), {"avatar": upload})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Customer.objects.get(pk=customer.pk).avatar
    assert _stored(settings) == []


@HOSTILE
def test_hostile_review_photo_is_refused_and_nothing_stored(
    client, settings, name, content, message
):
    subject = SubjectFactory()
    client.force_login(CustomerFactory().user)
    response = client.post(
        reverse("reviews:write", args=[subject.slug]),
        {"rating": 5, "title": "Lovely", "body": "Great beans.",
         "photos": [SimpleUploadedFile(name, content, content_type="image/jpeg")]},
    )  # fmt: skip
    assert response.status_code == 400 and message in response.content.decode()
    assert not Review.objects.exists() and not ReviewPhoto.objects.exists()
    assert _stored(settings) == []


def test_png_html_polyglot_is_stored_as_a_plain_jpeg(client, settings):
    """A PNG with an HTML page after its end: valid to Pillow, dangerous to a sniffing browser."""
    customer = CustomerFactory()
    client.force_login(customer.user)
    polyglot = _png() + HTML
    upload = SimpleUploadedFile("cat.html", polyglot, content_type="text/html")
    assert client.post(reverse("customers:profile"), {"avatar": upload}).status_code == 302
    subject = SubjectFactory()
    client.post(
        reverse("reviews:write", args=[subject.slug]),
        {"rating": 5, "title": "Nice", "body": "Nice.",
         "photos": [SimpleUploadedFile("p.png", polyglot, content_type="image/png")]},
    )  # fmt: skip
    stored = _stored(settings)
    assert len(stored) == 4  # avatar, its thumbnail, the review photo and its thumbnail
    for file in stored:
        data = file.read_bytes()
        assert file.suffix == ".jpg" and data.startswith(b"\xff\xd8\xff")
        assert b"<script" not in data and b"<html" not in data


def _media(request, path):
    return serve(request, path, document_root=django_settings.MEDIA_ROOT)


# Django's static view, as `make run` (DEBUG) serves media, ahead of the project's URLs.
urlpatterns = [re_path(r"^media/(?P<path>.*)$", _media), path("", include("config.urls"))]


@pytest.mark.urls(__name__)
def test_media_is_served_with_nosniff(client, settings):
    """A browser is told not to guess a type from the bytes of anything under /media/."""
    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / "photo.jpg").write_bytes(_png() + HTML)
    response = client.get("/media/photo.jpg")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/jpeg"
