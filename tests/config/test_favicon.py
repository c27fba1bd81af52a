"""Every page names the icon, and /favicon.ico answers for the pages that don't."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

from tests.factories import PASSWORD
from tests.support import login_with_second_factor

pytestmark = pytest.mark.django_db

ICON = static("img/favicon.svg")


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == ICON
    assert finders.find("img/favicon.svg")


def test_admin_pages_name_the_icon(client, django_user_model):
    staff = django_user_model.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    login_with_second_factor(client, staff)
    for path in ["/admin/", "/admin/dashboard/", "/admin/login/"]:
        assert f'<link rel="icon" href="{ICON}"' in client.get(path, follow=True).content.decode()


def test_portal_pages_name_the_icon(client):
    assert f'<link rel="icon" href="{ICON}"' in client.get("/").content.decode()
