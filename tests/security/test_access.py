"""Who may reach what: every URL pattern of the project, for every kind of visitor.

The table below has one rule per URL pattern (portal, API, custom admin pages);
the admin's per-model pages get their rules from the admin registry. A pattern
with no rule fails the test, so a new URL cannot land without saying who may
see it. Each rule lists, per actor, what that actor must get:

- "page": 200; "login": a redirect to the portal login; "admin_login": a redirect
  to the admin login; "redirect": some other redirect; an int: that status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from customers.privacy import data_export_build, data_export_request, unsubscribe_url
from customers.services import connection_request
from loyalty.vouchers import reward_redeem
from partners.links import link_consent_token
from partners.models import Partner
from partners.services import partner_conversion_record, partner_customer_upsert
from referrals.invitations import invitation_token, invitations_create, suppress_url
from reviews.models import ReviewPolicy, Survey
from reviews.services import survey_token
from tests.factories import PASSWORD, CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points
from tests.partners.factories import PartnerFactory
from tests.reviews.factories import ReviewFactory, SubjectFactory

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "bob", "staff", "superuser", "partner_b", "partner_a", "alice")
# Requests are made in ACTORS order, so an owner's (possibly changing) request comes last.


@dataclass
class World:
    """Alice owns everything; Bob is another customer; partner A knows Alice, B does not."""

    alice: object
    bob: object
    staff: object
    superuser: object
    partner_a: object
    partner_b: object
    objects: dict = field(default_factory=dict)


def _world() -> World:
    user_model = get_user_model()
    alice, bob, carol = CustomerFactory(), CustomerFactory(), CustomerFactory()
    staff = user_model.objects.create_user(
        email="staff@example.com", password=PASSWORD, is_staff=True
    )
    superuser = user_model.objects.create_superuser(email="root@example.com", password=PASSWORD)
    partner_a, partner_b = PartnerFactory(), PartnerFactory()
    partner_customer_upsert(partner=partner_a, external_id="shop-alice", email=alice.user.email)
    # Partner A erases Dora through the API; Alice's data must stay for the other rules.
    dora = CustomerFactory()
    partner_customer_upsert(partner=partner_a, external_id="shop-dora", email=dora.user.email)
    conversion = partner_conversion_record(
        partner=partner_a, customer=alice, order_id="A-1", amount=Decimal("20.00"), currency="EUR"
    ).conversion
    reward = RewardFactory(points_cost=10)
    settled_points(alice, 100)
    voucher = reward_redeem(customer=alice, reward=reward).voucher
    incoming = connection_request(requester=carol, addressee=alice)
    export = data_export_request(customer=alice, source="portal")
    data_export_build(export_id=export.pk)
    invitation = invitations_create(sender=alice, addresses="friend@example.org").invited[0]
    subject = SubjectFactory()
    review = ReviewFactory(subject=subject, author=bob)
    ReviewPolicy.current()  # the singleton staff edit (its add page then refuses everyone)
    second = partner_conversion_record(
        partner=partner_a, customer=alice, order_id="A-2", amount=Decimal("20.00"), currency="EUR"
    ).conversion
    sent, answered = (
        Survey.objects.create(
            customer=alice, conversion=purchase, send_after=purchase.occurred_at, status=status
        )
        for purchase, status in [(conversion, Survey.Status.SENT), (second, Survey.Status.ANSWERED)]
    )
    # A merchant asks for Bob's yes: its consent page is public, reached from the email.
    merchant = PartnerFactory(kind=Partner.Kind.MERCHANT)
    _bob, merchant_link, _created = partner_customer_upsert(
        partner=merchant, external_id="m-bob", email=bob.user.email
    )
    return World(
        alice=alice,
        bob=bob,
        staff=staff,
        superuser=superuser,
        partner_a=partner_a,
        partner_b=partner_b,
        objects={
            "dora": dora,
            "conversion": conversion,
            "reward": reward,
            "voucher": voucher,
            "connection": incoming,
            "export": export,
            "invitation": invitation,
            "subject": subject,
            "review": review,
            "survey_sent": sent,
            "survey_answered": answered,
            "merchant_link": merchant_link,
        },
    )


@dataclass(frozen=True)
class Rule:
    expect: dict[str, object]
    path: Callable[[World], str] | str | None = None
    method: str = "get"


def _everyone(outcome) -> dict[str, object]:
    return dict.fromkeys(ACTORS, outcome)


PUBLIC = _everyone("page")
SIGNED_IN_REDIRECTED = dict.fromkeys(["bob", "staff", "superuser", "alice"], "redirect")
# Portal pages for a signed-in person: staff and superusers get a customer profile on first visit.
MINE = {**_everyone("page"), "anonymous": "login", "partner_a": "login", "partner_b": "login"}
# Alice's own object: anyone else signed in gets 404, so an id leaks nothing.
ALICES = {**MINE, "bob": 404, "staff": 404, "superuser": 404}
ALICES_POST = {**ALICES, "alice": "redirect"}
# The API answers only to partner keys; a session is not a credential there.
API = {**_everyone(401), "partner_a": 200, "partner_b": 200}
API_SCOPED = {**API, "partner_b": 404}
ADMIN = {**_everyone("admin_login"), "staff": 403, "superuser": "page"}
ADMIN_OPEN = {**ADMIN, "staff": "page"}


def _a(world: World) -> str:
    return str(world.alice.public_id)


RULES: dict[str, Rule] = {
    "": Rule(PUBLIC),
    "health/": Rule(PUBLIC),
    # allauth: the forms for visitors; a signed-in person is sent on to the dashboard.
    "accounts/login/": Rule({**PUBLIC, **SIGNED_IN_REDIRECTED}),
    "accounts/signup/": Rule({**PUBLIC, **SIGNED_IN_REDIRECTED}),
    # The logout page asks signed-in people to confirm (a POST); visitors are sent home.
    "accounts/logout/": Rule(
        {**_everyone("redirect"), **dict.fromkeys(SIGNED_IN_REDIRECTED, "page")}
    ),
    "accounts/inactive/": Rule(PUBLIC),
    "accounts/reauthenticate/": Rule(MINE),
    "accounts/email/": Rule(MINE),
    "accounts/confirm-email/": Rule(PUBLIC),
    "accounts/password/change/": Rule(MINE),
    # Everyone signed in already has a password: allauth sends them to change it instead.
    "accounts/password/set/": Rule({**MINE, **SIGNED_IN_REDIRECTED}),
    "accounts/password/reset/": Rule(PUBLIC),
    "accounts/password/reset/done/": Rule(PUBLIC),
    "accounts/password/reset/key/done/": Rule(PUBLIC),
    "accounts/login/code/confirm/": Rule(
        {**_everyone("redirect"), "anonymous": "login", "partner_a": "login", "partner_b": "login"}
    ),
    # A made-up key: the page says the link is invalid.
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": Rule(
        PUBLIC, "/accounts/confirm-email/not-a-key/"
    ),
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": Rule(
        PUBLIC, "/accounts/password/reset/key/1-not-a-key/"
    ),
    "me/dashboard/": Rule(MINE),
    "me/profile/": Rule(MINE),
    "me/friends/": Rule(MINE),
    "me/friends/<int:pk>/respond/": Rule(
        ALICES_POST,
        lambda w: reverse("customers:friend_respond", args=[w.objects["connection"].pk]),
        "post",
    ),
    "me/friends/<int:pk>/remove/": Rule(
        ALICES_POST,
        lambda w: reverse("customers:friend_remove", args=[w.objects["connection"].pk]),
        "post",
    ),
    "me/data/": Rule(MINE),
    "me/data/<uuid:public_id>/download/": Rule(
        ALICES, lambda w: reverse("customers:data_download", args=[w.objects["export"].public_id])
    ),
    "me/delete/": Rule(MINE),
    # Token pages: whoever holds the link may use it; the token is the credential.
    "me/unsubscribe/<str:token>/": Rule(
        PUBLIC, lambda w: urlsplit(unsubscribe_url(customer=w.alice, topic="marketing")).path
    ),
    "me/rewards/": Rule(MINE),
    "me/rewards/history/": Rule(MINE),
    "me/rewards/catalog/": Rule(MINE),
    "me/rewards/catalog/<uuid:public_id>/redeem/": Rule(
        MINE, lambda w: reverse("loyalty:redeem", args=[w.objects["reward"].public_id])
    ),
    "me/rewards/vouchers/": Rule(MINE),
    "me/rewards/gift/": Rule(MINE),
    "r/<str:code>/": Rule(
        PUBLIC,
        lambda w: reverse("referrals:landing", args=[w.alice.referral_code]),
    ),
    "invitation/<str:token>/": Rule(
        PUBLIC,
        lambda w: reverse("referrals:invitation", args=[invitation_token(w.objects["invitation"])]),
    ),
    "no-more-invitations/<str:signed>/": Rule(
        PUBLIC, lambda w: urlsplit(suppress_url("friend@example.org")).path
    ),
    "partner-links/<str:token>/": Rule(
        PUBLIC,
        lambda w: reverse(
            "partner-link-consent", args=[link_consent_token(w.objects["merchant_link"])]
        ),
    ),
    "me/invite/": Rule(MINE),
    "me/invite/qr.png": Rule(MINE),
    "me/invite/<uuid:public_id>/resend/": Rule(
        ALICES_POST,
        lambda w: reverse("referrals:resend", args=[w.objects["invitation"].public_id]),
        "post",
    ),
    "me/invite/<uuid:public_id>/cancel/": Rule(
        ALICES_POST,
        lambda w: reverse("referrals:cancel", args=[w.objects["invitation"].public_id]),
        "post",
    ),
    "reviews/": Rule(PUBLIC),
    "reviews/mine/": Rule(MINE),
    "reviews/survey/<str:token>/": Rule(
        PUBLIC,
        lambda w: reverse(
            "reviews:survey_comment", args=[survey_token(w.objects["survey_answered"])]
        ),
    ),
    "reviews/survey/<str:token>/<int:score>/": Rule(
        # Opening the link answers nothing (mail scanners open it first): a page for everyone.
        PUBLIC,
        lambda w: reverse(
            "reviews:survey_answer", args=[survey_token(w.objects["survey_sent"]), 9]
        ),
    ),
    "reviews/review/<uuid:public_id>/helpful/": Rule(
        {**MINE, **SIGNED_IN_REDIRECTED},
        lambda w: reverse("reviews:helpful", args=[w.objects["review"].public_id]),
        "post",
    ),
    "reviews/<slug:slug>/": Rule(
        PUBLIC, lambda w: reverse("reviews:subject", args=[w.objects["subject"].slug])
    ),
    "reviews/<slug:slug>/write/": Rule(
        MINE, lambda w: reverse("reviews:write", args=[w.objects["subject"].slug])
    ),
    # The schema and its reference are the published contract, open to all.
    "api/v1/schema/": Rule(_everyone(200)),
    "api/v1/docs/": Rule(_everyone(200)),
    "api/v1/customers/": Rule(API),
    "api/v1/customers/<str:customer_id>/": Rule(
        API_SCOPED, lambda w: f"/api/v1/customers/{_a(w)}/"
    ),
    "api/v1/customers/<str:customer_id>/transactions/": Rule(
        API_SCOPED, lambda w: f"/api/v1/customers/{_a(w)}/transactions/"
    ),
    # Writes are sent with an empty body: the owner learns what is missing (400), others 404.
    "api/v1/customers/<str:customer_id>/points/": Rule(
        {**API_SCOPED, "partner_a": 400}, lambda w: f"/api/v1/customers/{_a(w)}/points/", "post"
    ),
    "api/v1/customers/<str:customer_id>/data-requests/": Rule(
        {**API_SCOPED, "partner_a": 202},
        lambda w: f"/api/v1/customers/{_a(w)}/data-requests/",
        "post",
    ),
    "api/v1/customers/<str:customer_id>/redact/": Rule(
        API_SCOPED,
        lambda w: f"/api/v1/customers/{w.objects['dora'].public_id}/redact/",
        "post",
    ),
    "api/v1/referral-codes/<str:code>/": Rule(
        API, lambda w: f"/api/v1/referral-codes/{w.alice.referral_code}/"
    ),
    "api/v1/conversions/": Rule({**API, "partner_a": 400, "partner_b": 400}, None, "post"),
    "api/v1/conversions/<str:conversion_id>/refund/": Rule(
        API_SCOPED,
        lambda w: f"/api/v1/conversions/{w.objects['conversion'].public_id}/refund/",
        "post",
    ),
    "api/v1/rewards/": Rule(API),
    "api/v1/redemptions/": Rule({**API, "partner_a": 400, "partner_b": 400}, None, "post"),
    "api/v1/vouchers/<str:code>/": Rule(
        API_SCOPED, lambda w: f"/api/v1/vouchers/{w.objects['voucher'].code}/"
    ),
    "api/v1/vouchers/<str:code>/use/": Rule(
        {**API_SCOPED, "partner_a": 400},
        lambda w: f"/api/v1/vouchers/{w.objects['voucher'].code}/use/",
        "post",
    ),
    "api/v1/reviews/": Rule(API),
    "api/v1/reviews/summary/": Rule(
        API, lambda w: f"/api/v1/reviews/summary/?subject={w.objects['subject'].slug}"
    ),
    "api/v1/^.*$": Rule({**API, "partner_a": 404, "partner_b": 404}, "/api/v1/nothing-here/"),
    "admin/dashboard/": Rule(ADMIN_OPEN),
    "admin/": Rule(ADMIN_OPEN),
    "admin/login/": Rule({**_everyone("page"), "staff": "redirect", "superuser": "redirect"}),
    # Logging out is a POST; outsiders are sent to the admin index (and on to its login).
    "admin/logout/": Rule({**_everyone("redirect"), "staff": 405, "superuser": 405}),
    "admin/password_change/": Rule(ADMIN_OPEN),
    "admin/password_change/done/": Rule(ADMIN_OPEN),
    "admin/autocomplete/": Rule({**ADMIN, "superuser": 403}),
    "admin/jsi18n/": Rule(ADMIN_OPEN),
    "admin/r/<path:content_type_id>/<path:object_id>/": Rule(
        {**ADMIN, "staff": 404, "superuser": 404}, "/admin/r/0/0/"
    ),
    # An archive a staff member may not view does not exist for them.
    "admin/customers/dataexport/<int:pk>/download/": Rule(
        {**ADMIN, "staff": 404},
        lambda w: reverse("admin:customers_dataexport_download", args=[w.objects["export"].pk]),
    ),
    "admin/reviews/review/report/": Rule(ADMIN),
    "admin/customers/user/<id>/password/": Rule(
        ADMIN, lambda w: reverse("admin:auth_user_password_change", args=[w.alice.user.pk])
    ),
    # Unknown admin paths: the login for outsiders (nothing about what exists), 404 inside.
    "admin/(?P<url>.*)$": Rule({**ADMIN, "staff": 404, "superuser": 404}, "/admin/nothing-here/"),
    # An app index the staff member has no model of is a 404 in Django's admin.
    # The apps in the order their admins were registered (customers re-registers two libraries').
    "admin/^(?P<app_label>auth|django_celery_beat|customers|account|loyalty|referrals|reviews"
    "|partners)/$": Rule({**ADMIN, "staff": 404}, "/admin/customers/"),
}


def _admin_model_rules(world: World) -> dict[str, Rule]:
    """Rules for the five standard pages of every registered model, from its admin's own
    permission methods for a superuser; everyone else is held at the login or refused."""
    rules = {}
    request = RequestFactory().get("/admin/")
    request.user = world.superuser
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        prefix = f"admin/{meta.app_label}/{meta.model_name}/"
        obj = model_admin.get_queryset(request).first()
        object_id = str(obj.pk) if obj is not None else "0"

        name = f"admin:{meta.app_label}_{meta.model_name}_"

        can_view = model_admin.has_view_or_change_permission(request, obj)
        missing = "redirect"  # the admin sends you back to its index when the id is gone
        rules[prefix] = Rule(
            {**ADMIN, "superuser": allowed(model_admin.has_view_or_change_permission(request))},
            reverse(name + "changelist"),
        )
        rules[prefix + "add/"] = Rule(
            {**ADMIN, "superuser": allowed(model_admin.has_add_permission(request))},
            reverse(name + "add"),
        )
        rules[prefix + "<path:object_id>/change/"] = Rule(
            {**ADMIN, "superuser": allowed(can_view) if obj else missing},
            reverse(name + "change", args=[object_id]),
        )
        rules[prefix + "<path:object_id>/history/"] = Rule(
            {**ADMIN, "staff": 403 if obj else missing,
             "superuser": allowed(can_view) if obj else missing},
            reverse(name + "history", args=[object_id]),
        )  # fmt: skip
        can_delete = model_admin.has_delete_permission(request, obj)
        rules[prefix + "<path:object_id>/delete/"] = Rule(
            {**ADMIN, "superuser": missing if can_delete and not obj else allowed(can_delete)},
            reverse(name + "delete", args=[object_id]),
        )
        rules[prefix + "<path:object_id>/"] = Rule(
            {**ADMIN, "staff": "redirect", "superuser": "redirect"},
            f"/{prefix}{object_id}/",
        )
    return rules


def allowed(granted: bool) -> str | int:
    return "page" if granted else 403


def _patterns(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern)


def _clients(world: World) -> dict[str, Client]:
    clients = {"anonymous": Client()}
    for name in ("alice", "bob", "staff", "superuser"):
        person = getattr(world, name)
        clients[name] = Client()
        clients[name].force_login(getattr(person, "user", person))
    for name in ("partner_a", "partner_b"):
        key = getattr(world, name).key
        clients[name] = Client(headers={"Authorization": f"Api-Key {key}"})
    return clients


def _request(client: Client, method: str, path: str, *, key: str):
    if method == "get":
        return client.get(path)
    if path.startswith("/api/"):
        return client.post(
            path, {}, content_type="application/json", headers={"Idempotency-Key": key}
        )
    return client.post(path, {})


def _outcome(response, url: str) -> object:
    if response.status_code == 200:
        return "page"
    if response.status_code in (301, 302, 303):
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return "admin_login"
        if location.startswith(reverse("account_login")):
            return "login"
        return "redirect"
    return response.status_code


def _normalise(expected: object) -> object:
    return "page" if expected == 200 else expected


@pytest.mark.slow
def test_every_url_pattern_has_a_rule_and_every_actor_gets_exactly_it(settings):
    settings.PARTNER_API_RATE = "1000000/minute"
    world = _world()
    clients = _clients(world)
    rules = {**RULES, **_admin_model_rules(world)}
    patterns = list(dict.fromkeys(_patterns(get_resolver().url_patterns)))
    # The admin's GETs change nothing; the portal's owners' POSTs (removing a friend) come after.
    patterns.sort(key=lambda pattern: not pattern.startswith("admin/"))
    unruled = [pattern for pattern in patterns if pattern not in rules]
    assert not unruled, f"URL patterns without an access rule: {unruled}"
    stale = [pattern for pattern in rules if pattern not in patterns]
    assert not stale, f"Access rules for URL patterns that no longer exist: {stale}"

    wrong = []
    for pattern in patterns:
        rule = rules[pattern]
        path = rule.path(world) if callable(rule.path) else rule.path or "/" + pattern
        for actor in ACTORS:
            client = clients[actor]
            if rule.method == "post":
                response = (
                    client.post(
                        path,
                        {},
                        content_type="application/json",
                        headers={"Idempotency-Key": f"k-{actor}-{path}"},
                    )
                    if path.startswith("/api/")
                    else client.post(path, {})
                )
            else:
                response = client.get(path)
            got = _outcome(response, path)
            expected = _normalise(rule.expect[actor])
            if got != expected:
                wrong.append(f"{rule.method.upper()} {path} as {actor}: {got}, expected {expected}")
    assert not wrong, "\n".join(wrong)
