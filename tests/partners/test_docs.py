"""The API reference page works without the internet: every asset comes from the project."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

DOCS = "/api/v1/docs/"


def test_reference_page_loads_its_script_and_styles_from_the_project(client):
    response = client.get(DOCS)
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in assets
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
    assert "googleapis" not in page and "cdn." not in page


def test_reference_page_policy_allows_only_this_origin(client):
    policy = client.get(DOCS)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "http" not in policy
