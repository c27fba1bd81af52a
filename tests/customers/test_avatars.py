import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _image_bytes(fmt="JPEG", size=(1200, 900), exif=False) -> bytes:
    picture = Image.new("RGB", size, (200, 80, 40))
    buffer = io.BytesIO()
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SpyCam"  # Make
        data[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
        kwargs["exif"] = data
    picture.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _bomb_png() -> bytes:
    # 20000 x 20000 pixels of one colour: a few hundred KB on disk, 1.2 GB decoded.
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _upload(client, name, content, content_type="image/jpeg"):
    return client.post(
        reverse("customers:profile"),
        {"avatar": SimpleUploadedFile(name, content, content_type=content_type)},
    )


def _stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return [f for _, _, files in os.walk(root) for f in files] if os.path.exists(root) else []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.jpg", b"this is plainly a text file\n" * 10, "not a readable photo"),
        ("cut.jpg", _image_bytes()[:2000], "not a readable photo"),
        ("bomb.png", _bomb_png(), "too many pixels"),
        ("huge.jpg", b"\xff\xd8\xff" + os.urandom(6 * 1024 * 1024), "larger than 5 MB"),
        ("anim.gif", b"GIF89a" + _image_bytes("GIF", (10, 10))[6:], "JPEG, PNG or WebP"),
    ],
    ids=["text-renamed-jpg", "truncated-jpeg", "png-bomb", "six-mb", "gif"],
)
def test_bad_avatar_rejected_with_a_message_and_nothing_stored(
    client, settings, name, content, message
):
    customer = CustomerFactory()
    client.force_login(customer.user)
    response = _upload(client, name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    customer.refresh_from_db()
    assert not customer.avatar
    assert _stored_files(settings) == []


def test_avatar_is_resized_reencoded_and_stripped_of_exif(client, settings):
    customer = CustomerFactory()
    client.force_login(customer.user)
    response = _upload(client, "../../etc/passwd.png", _image_bytes(exif=True), "text/html")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.avatar and customer.avatar_thumbnail
    assert "passwd" not in customer.avatar.name and customer.avatar.name.endswith(".jpg")
    with Image.open(customer.avatar.path) as stored:
        assert stored.format == "JPEG"
        assert max(stored.size) <= 512
        assert not stored.getexif()
    with Image.open(customer.avatar_thumbnail.path) as thumb:
        assert max(thumb.size) <= 96


def test_replacing_an_avatar_removes_the_old_files(client, settings):
    customer = CustomerFactory()
    client.force_login(customer.user)
    _upload(client, "a.png", _image_bytes("PNG", (300, 300)), "image/png")
    _upload(client, "b.webp", _image_bytes("WEBP", (300, 300)), "image/webp")
    assert len(_stored_files(settings)) == 2
