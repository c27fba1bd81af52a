"""Static files as production serves them: hashed names, compressed copies, cached a year."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PRODUCTION_STORAGES = {
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@pytest.fixture
def collected(settings, tmp_path):
    """Production's storage, its files collected (as a deployment does) into a fresh root."""
    settings.STORAGES = {**settings.STORAGES, **PRODUCTION_STORAGES}
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def _stylesheet(page: str) -> str:
    return re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)


def test_pages_name_static_files_by_their_content(collected):
    path = _stylesheet(Client().get(reverse("home")).content.decode())
    assert re.fullmatch(r"/static/css/kindred\.[0-9a-f]{12}\.css", path)
    assert (collected / path.removeprefix("/static/")).exists()


def test_hashed_static_files_are_cached_a_year_and_served_compressed(collected):
    browser = Client()  # made after collecting: whitenoise lists the files when it starts
    path = _stylesheet(browser.get(reverse("home")).content.decode())
    response = browser.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    max_age = int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1))
    assert max_age >= 365 * 86400
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]


def test_a_static_file_under_its_plain_name_is_not_cached_for_long(collected):
    """The plain name's content changes with a deployment; only hashed names are immutable."""
    response = Client().get("/static/css/kindred.css")
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
