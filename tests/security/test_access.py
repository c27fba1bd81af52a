"""Who may reach what: every URL pattern of the project, for every kind of visitor.

The table below has one rule per URL pattern (portal, API, custom admin pages);
the admin's per-model pages get their rules from the admin registry. A pattern
with no rule fails the test, so a new URL cannot land without saying who may
see it. Each rule lists, per actor, what that actor must get:

- "page": 200; "login": a redirect to the portal login; "admin_login": a redirect
  to the admin login; "redirect": some other redirect; an int: that status.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from customers.privacy import data_export_build, data_export_request, unsubscribe_url
from customers.services import connection_request
from loyalty.adjustments import adjustment_request
from loyalty.vouchers import reward_redeem
from partners.links import link_consent_token
from partners.models import Partner
from partners.services import partner_conversion_record, partner_customer_upsert
from referrals.introductions import introduction_consent_token, introduction_create
from referrals.invitations import invitation_token, invitations_create, suppress_url
from referrals.models import DisposableDomain
from referrals.services import referral_attribute
from reviews.models import FeedbackAlert, ReviewPolicy, Survey
from reviews.questions import answer_create
from reviews.surveys import survey_token
from tests.factories import PASSWORD, CustomerFactory, purchase
from tests.imports_support import import_file, semicolon_export
from tests.loyalty.factories import RewardFactory, settled_points
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import active_program, introducer, introduction_said_yes
from tests.reviews.factories import QuestionFactory, ReviewFactory, SubjectFactory
from tests.support import login_with_second_factor, second_factor_add

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
    data_export_build(export_id=export.pk)  # tells Alice in a notice that it is ready
    invitation = invitations_create(sender=alice, addresses="friend@example.org").invited[0]
    subject = SubjectFactory()
    review = ReviewFactory(subject=subject, author=bob)
    question = QuestionFactory(subject=subject, author=bob)
    answer = answer_create(question=question, author=carol.user, body="Yes.")
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
    customer_import = import_file(semicolon_export(["imported@example.com;;;;;;;;;;;"]))
    # Someone introduces a friend: the friend's yes/no page is public, reached from the email.
    introduction = introduction_create(
        introducer=introducer(),
        friend_name="Eve",
        friend_email="eve@example.org",
        looking_for="a kitchen",
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
            "notice": alice.notices.get(kind="data_export_ready"),
            "invitation": invitation,
            "subject": subject,
            "review": review,
            "question": question,
            "answer": answer,
            "survey_sent": sent,
            "survey_answered": answered,
            "merchant_link": merchant_link,
            "customer_import": customer_import,
            "introduction": introduction,
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
# Pages that ask a signed-in person for their password again before they open.
MINE_AGAIN = {**MINE, **SIGNED_IN_REDIRECTED}
ADMIN = {**_everyone("admin_login"), "staff": 403, "superuser": "page"}
ADMIN_OPEN = {**ADMIN, "staff": "page"}


def _not_found_when_signed_in() -> dict:
    return {**MINE, **dict.fromkeys(SIGNED_IN_REDIRECTED, 404)}


def _a(world: World) -> str:
    return str(world.alice.public_id)


RULES: dict[str, Rule] = {
    "": Rule(PUBLIC),
    "health/": Rule(PUBLIC),
    "health/live/": Rule(PUBLIC),
    # Without METRICS_TOKEN (as here) the page does not exist; with it, only its bearer
    # gets in (tests/config/test_metrics.py): no session or API key counts.
    "metrics": Rule(_everyone(404)),
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
    # allauth.mfa: a signed-in person's own second factors. Staff and superuser have an
    # authenticator app and used it; Alice and Bob have none. Adding or changing one asks
    # for the password (or a code) again first: a redirect for everyone signed in.
    "accounts/2fa/": Rule(MINE),
    # The code step of a login in progress; with none, back to the login page.
    "accounts/2fa/authenticate/": Rule({**_everyone("login"), **SIGNED_IN_REDIRECTED}),
    # Asking for a code again: staff have an app; without one, sent to the password.
    "accounts/2fa/reauthenticate/": Rule({**MINE, "alice": "redirect", "bob": "redirect"}),
    "accounts/2fa/totp/activate/": Rule(MINE_AGAIN),
    "accounts/2fa/totp/deactivate/": Rule({**MINE_AGAIN, "alice": 404, "bob": 404}),
    # Nobody here has recovery codes yet.
    "accounts/2fa/recovery-codes/": Rule(_not_found_when_signed_in()),
    "accounts/2fa/recovery-codes/generate/": Rule(MINE_AGAIN),
    "accounts/2fa/recovery-codes/download/": Rule(_not_found_when_signed_in()),
    "accounts/2fa/webauthn/": Rule(MINE),
    "accounts/2fa/webauthn/add/": Rule(MINE_AGAIN),
    "accounts/2fa/webauthn/reauthenticate/": Rule(MINE_AGAIN),
    "accounts/2fa/webauthn/keys/<int:pk>/remove/": Rule(
        MINE_AGAIN, "/accounts/2fa/webauthn/keys/0/remove/"
    ),
    "accounts/2fa/webauthn/keys/<int:pk>/edit/": Rule(
        MINE_AGAIN, "/accounts/2fa/webauthn/keys/0/edit/"
    ),
    # The passkey login is a POST from the login page; a GET is sent back there.
    "accounts/2fa/webauthn/login/": Rule({**_everyone("login"), **SIGNED_IN_REDIRECTED}),
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
    "me/notices/": Rule(MINE),
    "me/notices/<int:pk>/read/": Rule(
        ALICES_POST,
        lambda w: reverse("customers:notice_read", args=[w.objects["notice"].pk]),
        "post",
    ),
    # Each signed-in person marks their own notices; nobody else's can be named here.
    "me/notices/read-all/": Rule({**MINE, **SIGNED_IN_REDIRECTED}, None, "post"),
    # The language switcher: anyone may choose a language (a signed-in customer's is kept).
    "language/": Rule(_everyone("redirect"), None, "post"),
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
    "me/introductions/": Rule(MINE),
    "introductions/<str:token>/": Rule(
        PUBLIC,
        lambda w: reverse(
            "referrals:introduction_answer",
            args=[introduction_consent_token(w.objects["introduction"])],
        ),
    ),
    "favicon.ico": Rule(_everyone("redirect")),
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
    "reviews/<slug:slug>/ask/": Rule(
        MINE, lambda w: reverse("reviews:ask", args=[w.objects["subject"].slug])
    ),
    # A published question is public; answering needs a login (an empty answer is a 400).
    "reviews/question/<uuid:public_id>/": Rule(
        PUBLIC, lambda w: reverse("reviews:question", args=[w.objects["question"].public_id])
    ),
    "reviews/question/<uuid:public_id>/answer/": Rule(
        {**MINE, **dict.fromkeys(SIGNED_IN_REDIRECTED, 400)},
        lambda w: reverse("reviews:answer", args=[w.objects["question"].public_id]),
        "post",
    ),
    "reviews/answer/<uuid:public_id>/helpful/": Rule(
        {**MINE, **SIGNED_IN_REDIRECTED},
        lambda w: reverse("reviews:answer_helpful", args=[w.objects["answer"].public_id]),
        "post",
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
    "api/v1/questions/": Rule(API),
    "api/v1/reviews/summary/": Rule(
        API, lambda w: f"/api/v1/reviews/summary/?subject={w.objects['subject'].slug}"
    ),
    "api/v1/^.*$": Rule({**API, "partner_a": 404, "partner_b": 404}, "/api/v1/nothing-here/"),
    # The widget: its script is public; its endpoints answer a publishable key from an
    # allowed origin only, whoever is signed in (a session counts for nothing there): a
    # form body is no JSON (400), a read without key or origin is refused (403).
    "widget/v1.js": Rule(PUBLIC),
    "widget/v1/panel/": Rule(_everyone(400), None, "post"),
    "widget/v1/redeem/": Rule(_everyone(400), None, "post"),
    "widget/v1/reviews/<slug:slug>/": Rule(
        _everyone(403), lambda w: f"/widget/v1/reviews/{w.objects['subject'].slug}/"
    ),
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
    # A customer import's pages: an import a staff member may not see does not exist for
    # them; confirming and cancelling are POSTs, a GET goes back to the import's page.
    **{
        f"admin/customers/customerimport/<int:pk>/{name}/": Rule(
            {**ADMIN, "staff": 404, "superuser": outcome},
            lambda w, name=name: reverse(
                f"admin:customers_customerimport_{name}", args=[w.objects["customer_import"].pk]
            ),
        )
        for name, outcome in [
            ("confirm", "redirect"),
            ("cancel", "redirect"),
            ("progress", "page"),
            ("report", "page"),
        ]
    },
    "admin/customers/user/<id>/password/": Rule(
        ADMIN, lambda w: reverse("admin:auth_user_password_change", args=[w.alice.user.pk])
    ),
    # Unknown admin paths: the login for outsiders (nothing about what exists), 404 inside.
    "admin/(?P<url>.*)$": Rule({**ADMIN, "staff": 404, "superuser": 404}, "/admin/nothing-here/"),
    # An app index the staff member has no model of is a 404 in Django's admin.
    # The apps in the order their admins were registered (customers re-registers two libraries').
    "admin/^(?P<app_label>auth|django_celery_beat|core|customers|account|loyalty|referrals"
    "|reviews|partners)/$": Rule({**ADMIN, "staff": 404}, "/admin/customers/"),
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
        if name in ("staff", "superuser"):
            login_with_second_factor(clients[name], person)
        else:
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


# Admin actions: who of the staff groups is offered each one.
#
# Django offers an action that declares no permission to everyone who can see its list,
# so every action of every registered admin has a rule here, and a real POST to the
# changelist by a member of each group proves the rule: a refused group gets a 403, "No
# action selected" or a list without the action, and nothing in the database changes; an
# allowed group sees the action do its work on a fresh object.

STAFF_GROUPS = ("Support", "Marketing", "Finance")
REASON = "Customer called"
_serial = itertools.count(1)


@dataclass(frozen=True)
class ActionRule:
    """The groups an admin action is offered to, and how to see it work for them.

    `target` makes a fresh object to select (so each group acts on its own), `confirm`
    is the action's second step (a reason, a "yes"), sent at once so that a refusal is
    tested against a request that would otherwise act, and `done` tells that it acted.
    """

    groups: frozenset[str] = frozenset()
    target: Callable[[], object] | None = None
    confirm: dict[str, str] = field(default_factory=dict)
    done: Callable[[object, object], bool] | None = None


def _refreshed(obj):
    obj.refresh_from_db()
    return obj


def _held_referral():
    active_program()
    DisposableDomain.objects.get_or_create(domain="yopmail.com")
    # A throwaway address is one of the fraud rules that hold a referral for review.
    referee = CustomerFactory(email=f"held-{next(_serial)}@yopmail.com")
    referral = referral_attribute(
        customer=referee, code=CustomerFactory().referral_code, source="link"
    )
    assert referral.status == "review"
    return referral


def _adjustment_waiting():
    requester = get_user_model().objects.create_user(
        email=f"requester-{next(_serial)}@example.com", is_staff=True
    )
    return adjustment_request(
        customer=CustomerFactory(),
        points=django_settings.LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD + 1,
        reason="Goodwill",
        actor=requester,
    )


def _voucher():
    customer = CustomerFactory()
    settled_points(customer, 100)
    return reward_redeem(customer=customer, reward=RewardFactory(points_cost=100)).voucher


def _feedback_alert():
    review = ReviewFactory(rating=2)
    return FeedbackAlert.objects.create(kind="low_rating", customer=review.author, review=review)


def _survey():
    customer = CustomerFactory()
    bought = purchase(customer)
    return Survey.objects.create(
        customer=customer, conversion=bought, send_after=bought.occurred_at, status="answered"
    )


def _staff_with_second_factor():
    member = get_user_model().objects.create_user(
        email=f"member-{next(_serial)}@example.com", is_staff=True
    )
    second_factor_add(member)
    return member


def _csv_of(obj, response) -> bool:
    return response["Content-Type"].startswith("text/csv") and str(obj.public_id) in (
        response.content.decode()
    )


ACTION_RULES: dict[str, ActionRule] = {
    # Customers ask customer service for a copy of their data and for erasure.
    "customers.customer.export_data": ActionRule(
        frozenset({"Support"}),
        CustomerFactory,
        done=lambda customer, _: customer.data_exports.exists(),
    ),
    "customers.customer.erase": ActionRule(
        frozenset({"Support"}),
        CustomerFactory,
        {"confirmed": "yes"},
        lambda customer, _: _refreshed(customer).erased_at is not None,
    ),
    # Points and vouchers are finance's: only they take points back or cancel a voucher.
    "loyalty.transaction.reverse_with_reason": ActionRule(
        frozenset({"Finance"}),
        lambda: settled_points(CustomerFactory(), 100),
        {"reason": REASON},
        lambda txn, _: txn.reversals.exists() or _refreshed(txn).status == "voided",
    ),
    "loyalty.voucher.cancel_and_refund": ActionRule(
        frozenset({"Finance"}),
        _voucher,
        {"reason": REASON},
        lambda voucher, _: _refreshed(voucher).status == "void",
    ),
    "loyalty.adjustmentrequest.approve": ActionRule(
        frozenset({"Finance"}),
        _adjustment_waiting,
        done=lambda adjustment, _: _refreshed(adjustment).status == "posted",
    ),
    "loyalty.adjustmentrequest.reject": ActionRule(
        frozenset({"Finance"}),
        _adjustment_waiting,
        done=lambda adjustment, _: _refreshed(adjustment).status == "rejected",
    ),
    # Marketing runs the programs and judges what their fraud rules hold.
    "referrals.referral.approve": ActionRule(
        frozenset({"Marketing"}),
        _held_referral,
        done=lambda referral, _: _refreshed(referral).status in ("pending", "qualified"),
    ),
    "referrals.referral.reject": ActionRule(
        frozenset({"Marketing"}),
        _held_referral,
        done=lambda referral, _: _refreshed(referral).status == "rejected",
    ),
    # Support, behind the contact persons, works the introductions' queue.
    "referrals.introduction.move_stage": ActionRule(
        frozenset({"Support"}),
        lambda: introduction_said_yes(friend_email=f"friend-{next(_serial)}@example.org"),
        {"stage": "talking", "note": REASON},
        lambda introduction, _: _refreshed(introduction).status == "talking",
    ),
    # Marketing moderates reviews; the export carries authors' emails.
    "reviews.review.publish_selected": ActionRule(
        frozenset({"Marketing"}),
        lambda: ReviewFactory(status="pending"),
        done=lambda review, _: _refreshed(review).status == "published",
    ),
    "reviews.review.export_csv": ActionRule(frozenset({"Marketing"}), ReviewFactory, done=_csv_of),
    # No group reads the surveys themselves; their answers carry customers' emails.
    "reviews.survey.export_csv": ActionRule(target=_survey),
    # Support works the feedback queue.
    "reviews.feedbackalert.mark_answered": ActionRule(
        frozenset({"Support"}),
        _feedback_alert,
        done=lambda alert, _: _refreshed(alert).status == "answered",
    ),
    # Partners, logins' addresses and the schedule are the superusers' alone.
    "partners.webhookevent.resend": ActionRule(),
    "partners.partner.rotate_webhook_secret": ActionRule(),
    "partners.partner.rotate_widget_keys": ActionRule(),
    # Emails may carry a reset or sign-in link: their outbox is the superusers' alone.
    "core.outboxemail.resend": ActionRule(),
    "account.emailaddress.make_verified": ActionRule(),
    # A second factor stands between a stolen staff password and the admin.
    "customers.user.reset_second_factor": ActionRule(target=_staff_with_second_factor),
    "django_celery_beat.periodictask.enable_tasks": ActionRule(),
    "django_celery_beat.periodictask.disable_tasks": ActionRule(),
    "django_celery_beat.periodictask.toggle_tasks": ActionRule(),
    "django_celery_beat.periodictask.run_tasks": ActionRule(),
}

# Actions every admin offers: nothing is deleted in bulk by a staff group (customers are
# erased, points reversed, vouchers voided, each through its service).
SITE_ACTION_RULES: dict[str, ActionRule] = {
    "delete_selected": ActionRule(confirm={"post": "yes"}),
}


def _admin_actions():
    """(model, its admin, action name, rule or None) for every action of every admin."""
    site_actions = [name for name, _action in admin.site.actions]
    for model, model_admin in admin.site._registry.items():
        if model_admin.actions is None:
            continue
        own = [a if isinstance(a, str) else a.__name__ for a in model_admin.actions]
        for name in [*site_actions, *own]:
            key = f"{model._meta.app_label}.{model._meta.model_name}.{name}"
            rule = SITE_ACTION_RULES.get(name) if name in site_actions else ACTION_RULES.get(key)
            yield model, model_admin, name, key, rule


def _group_members() -> dict[str, object]:
    members = {}
    for group in STAFF_GROUPS:
        user = get_user_model().objects.create_user(
            email=f"{group.lower()}@example.com", password=PASSWORD, is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))
        members[group] = user
    return members


def _database_state(model, pk) -> tuple:
    counts = tuple(m._base_manager.count() for m in apps.get_models())
    row = list(model._base_manager.filter(pk=pk).values()) if pk is not None else []
    return counts, row


def _action_post(client: Client, model, name: str, pk, confirm: dict):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return client.post(
        url, {"action": name, "_selected_action": [pk if pk is not None else 0], **confirm}
    )


def _refused(response, name: str) -> bool:
    if response.status_code == 403:
        return True
    if response.status_code == 302:
        return "No action selected." in [str(m) for m in get_messages(response.wsgi_request)]
    if response.status_code == 200 and response.context and "cl" in response.context:
        action_form = response.context["action_form"]
        return action_form is None or name not in dict(action_form.fields["action"].choices)
    return False


def test_every_admin_action_declares_a_permission_and_has_a_rule_for_each_group():
    actions = list(_admin_actions())
    unruled = [key for *_ignored, key, rule in actions if rule is None]
    assert not unruled, f"Admin actions without an access rule: {unruled}"
    stale = set(ACTION_RULES) - {key for *_ignored, key, _rule in actions}
    assert not stale, f"Access rules for admin actions that no longer exist: {sorted(stale)}"
    undeclared = [
        key
        for _model, model_admin, name, key, _rule in actions
        if not getattr(model_admin.get_action(name)[0], "allowed_permissions", None)
    ]
    assert not undeclared, f"Admin actions that declare no permission: {undeclared}"
    unproven = [
        key for *_ignored, key, rule in actions if rule.groups and not (rule.target and rule.done)
    ]
    assert not unproven, f"Allowed admin actions with no way to see them work: {unproven}"
    assert {group for *_ignored, rule in actions for group in rule.groups} <= set(STAFF_GROUPS)


def test_admin_actions_refused_to_a_group_change_nothing():
    members = _group_members()
    wrong = []
    for model, _model_admin, name, key, rule in _admin_actions():
        for group in STAFF_GROUPS:
            if group in rule.groups:
                continue
            target = rule.target() if rule.target else model._base_manager.first()
            pk = target.pk if target is not None else None
            client = Client()
            login_with_second_factor(client, members[group])
            before = _database_state(model, pk)
            response = _action_post(client, model, name, pk, rule.confirm)
            if not _refused(response, name):
                wrong.append(f"{key} ran for {group}: {response.status_code}")
            elif _database_state(model, pk) != before:
                wrong.append(f"{key} was refused to {group} but changed the database")
    assert not wrong, "\n".join(wrong)


def test_admin_actions_allowed_to_a_group_do_their_work():
    members = _group_members()
    wrong = []
    for model, _model_admin, name, key, rule in _admin_actions():
        for group in sorted(rule.groups):
            target = rule.target()
            client = Client()
            login_with_second_factor(client, members[group])
            response = _action_post(client, model, name, target.pk, rule.confirm)
            if _refused(response, name) or not rule.done(target, response):
                wrong.append(f"{key} did not work for {group}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
