"""Django's technical error pages stay readable in DEBUG; the portal's own pages keep the CSP."""

from __future__ import annotations

import pytest

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_debug_404_page_is_not_held_to_the_portals_policy(client, settings):
    settings.DEBUG = True
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"<style" in response.content  # Django's technical page styles itself inline
    assert "Content-Security-Policy" not in response


def test_without_debug_the_404_page_keeps_the_policy(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


def test_in_debug_the_portals_own_error_pages_keep_the_policy(client, settings):
    settings.DEBUG = True
    response = client.get("/r/NOSUCHCODE/")
    assert response.status_code == 404 and b"<style" not in response.content
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    client.force_login(CustomerFactory().user)
    assert client.get("/me/dashboard/")["Content-Security-Policy"]
