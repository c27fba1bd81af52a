"""Production settings: `check --deploy` is clean and every portal response carries the
security headers (HSTS, CSP, nosniff, Referrer-Policy), with pages that keep to the CSP."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import PASSWORD, CustomerFactory
from tests.reviews.factories import ReviewFactory
from tests.support import BASE_DIR, login_with_second_factor

PRODUCTION_SETTINGS = [
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "CONTENT_SECURITY_POLICY",
    "ADMIN_CONTENT_SECURITY_POLICY",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
]


def _production(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Run Python with the real settings module and only what production must provide."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "kindred.example.com",
        "SITE_URL": "https://kindred.example.com",
        "VAR_DIR": str(tmp_path / "var"),
    }
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory) -> dict:
    script = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {PRODUCTION_SETTINGS}}}))"
    )
    result = _production(tmp_path_factory.mktemp("prod"), "-c", script)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _production(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_policy_is_strict(production_settings):
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in production_settings["CONTENT_SECURITY_POLICY"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert "script-src" not in policy and "style-src" not in policy  # both fall back to 'self'
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in production_settings["CONTENT_SECURITY_POLICY"]
    assert production_settings["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production_settings["SECURE_SSL_REDIRECT"] and production_settings["CSRF_COOKIE_SECURE"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/reviews/", "/api/v1/rewards/"])
def test_security_headers_on_portal_and_api_responses(client, settings, production_settings, path):
    for name, value in production_settings.items():
        setattr(settings, name, value)
    response = client.get(path, secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    if path.startswith("/api/"):
        assert "Content-Security-Policy" not in response
    else:
        assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert client.get(path).status_code == 301  # plain HTTP is sent to HTTPS


# What the CSP blocks: inline <script> bodies, style attributes and <style>, event handlers.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.mark.django_db
def test_portal_pages_have_no_inline_script_or_style(client):
    review = ReviewFactory()
    client.force_login(CustomerFactory().user)
    pages = [
        "/", reverse("dashboard"), reverse("customers:profile"), reverse("customers:friends"),
        reverse("customers:data"), reverse("referrals:invite"), reverse("loyalty:overview"),
        reverse("loyalty:catalog"), reverse("loyalty:gift"), reverse("reviews:subject_list"),
        reverse("reviews:subject", args=[review.subject.slug]),
        reverse("reviews:write", args=[review.subject.slug]), reverse("account_email"),
        reverse("account_reauthenticate"),
    ]  # fmt: skip
    for page in pages:
        html = client.get(page).content.decode()
        assert not INLINE.findall(html), (page, INLINE.findall(html))


# allauth's second-factor pages pass data to its script in JSON <script> elements, which
# browsers do not run; anything else inline, or an image from a data: URL, is refused.
INLINE_OR_DATA = re.compile(
    r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>|<style\b|\sstyle=|\son[a-z]+="
    r"|src=\"data:",
    re.IGNORECASE,
)


@pytest.mark.django_db
def test_second_factor_pages_have_no_inline_script_style_or_data_image(client):
    html = client.get(reverse("account_login")).content.decode()
    assert not INLINE_OR_DATA.findall(html)
    client.force_login(CustomerFactory().user)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    for page in [reverse("mfa_index"), reverse("mfa_activate_totp"), reverse("mfa_add_webauthn")]:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert not INLINE_OR_DATA.findall(html), (page, INLINE_OR_DATA.findall(html))
    assert "<svg" in client.get(reverse("mfa_activate_totp")).content.decode()


def _directives(policy: str) -> dict[str, str]:
    return dict(directive.strip().split(" ", 1) for directive in policy.split(";"))


def test_admin_policy_allows_no_inline_or_foreign_script(production_settings):
    policy = _directives(production_settings["ADMIN_CONTENT_SECURITY_POLICY"])
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'"


# What the admin's policy blocks: inline <script> bodies (JSON data is not run) and event
# handlers.
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>|\son[a-z]+=|javascript:",
    re.IGNORECASE,
)


@pytest.mark.django_db
def test_admin_pages_send_their_policy_and_run_no_inline_script(
    client, settings, django_user_model
):

    login = client.get(reverse("admin:login"))
    assert login["Content-Security-Policy"] == settings.ADMIN_CONTENT_SECURITY_POLICY
    staff = django_user_model.objects.create_superuser(email="boss@example.com", password="x")
    login_with_second_factor(client, staff)
    customer = CustomerFactory()
    pages = [reverse("admin:index"), reverse("staff_dashboard")]
    pages += [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")
        for model in admin.site._registry
        for view in ("changelist", "add")
    ]
    pages.append(reverse("admin:customers_customer_change", args=[customer.pk]))
    for page in pages:
        response = client.get(page)
        assert response["Content-Security-Policy"] == settings.ADMIN_CONTENT_SECURITY_POLICY, page
        if response.status_code == 200:
            html = response.content.decode()
            assert not INLINE_SCRIPT.findall(html), (page, INLINE_SCRIPT.findall(html))
