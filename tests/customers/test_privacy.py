"""Data rights: consent with proof, exports of everything, erasure without a trace, the trail."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core import mail
from django.db import DatabaseError, connection, models, transaction
from django.urls import reverse
from django.utils import timezone

from customers.models import Connection, ConsentRecord, Customer, DataExport, StaffAccess, User
from customers.privacy import (
    EXPORT_EXEMPT,
    customer_email_send,
    customer_erase,
    data_export_build,
    data_export_request,
    personal_data_sections,
    unsubscribe_url,
)
from customers.services import connection_befriend, customer_profile_update
from loyalty.audit import ledger_audit
from loyalty.gifts import gift_to_friend
from loyalty.ledger import points_award
from loyalty.models import Account, Entry
from referrals.invitations import invitations_create
from referrals.models import Invitation
from referrals.rules import email_key
from referrals.services import referral_attribute, referral_conversion_qualify
from reviews.questions import answer_create, question_ask
from reviews.services import review_create
from tests.customers.test_avatars import _image_bytes, _upload
from tests.factories import PASSWORD, CustomerFactory, purchase
from tests.referrals.factories import active_program
from tests.reviews.factories import SubjectFactory
from tests.support import login_with_second_factor

pytestmark = pytest.mark.django_db

OUR_APPS = {"customers", "loyalty", "referrals", "reviews", "partners", "account"}


def _staff(**extra) -> User:
    return User.objects.create_user(
        email=f"staff{User.objects.count()}@example.com", password=PASSWORD, is_staff=True, **extra
    )


# Consent


def test_profile_change_of_consent_is_recorded_with_its_source(client):
    anna = CustomerFactory()
    client.force_login(anna.user)
    client.post(
        reverse("customers:profile"),
        {"preferred_channel": "email", "marketing_consent": "on", "notification_emails": "on"},
    )
    anna.refresh_from_db()
    assert anna.marketing_consent and anna.marketing_consent_at
    record = ConsentRecord.objects.get(customer=anna)
    assert (record.topic, record.granted, record.source) == ("marketing", True, "profile")


def test_saving_the_profile_unchanged_records_nothing():
    anna = CustomerFactory()
    customer_profile_update(customer=anna, phone="123", marketing_consent=False)
    assert not ConsentRecord.objects.exists()


def test_marketing_email_needs_consent_and_offers_one_click_unsubscribe(client):
    anna = CustomerFactory()
    context = {"url": "https://example.com/"}
    assert not customer_email_send(
        customer=anna, template="data_export_ready", context=context, topic="marketing"
    )
    assert mail.outbox == []
    customer_profile_update(customer=anna, marketing_consent=True)
    assert customer_email_send(
        customer=anna, template="data_export_ready", context=context, topic="marketing"
    )
    message = mail.outbox[0]
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.body and link in message.alternatives[0][0]

    # What a mail client does for RFC 8058: a POST without a session or CSRF token.
    client.handler.enforce_csrf_checks = True
    response = client.post(
        link.removeprefix("http://127.0.0.1:8000"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    anna.refresh_from_db()
    assert not anna.marketing_consent
    assert ConsentRecord.objects.filter(customer=anna, source="unsubscribe", granted=False).exists()


def test_transactional_email_goes_without_marketing_consent():
    anna = CustomerFactory()
    assert customer_email_send(customer=anna, template="data_export_ready", context={"url": "x"})
    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers


def test_activity_emails_can_be_turned_off_separately(client):
    anna = CustomerFactory()
    link = unsubscribe_url(customer=anna, topic="notifications").split("8000", 1)[1]
    page = client.get(link)
    assert b"activity emails" in page.content
    client.post(link)
    anna.refresh_from_db()
    assert not anna.notification_emails and not anna.marketing_consent
    assert not customer_email_send(
        customer=anna, template="data_export_ready", context={"url": "x"}, topic="notifications"
    )


def test_community_emails_are_asked_for_on_the_profile_and_stopped_by_their_link(client):
    anna = CustomerFactory()
    assert not anna.community_emails
    client.force_login(anna.user)
    page = client.get(reverse("customers:profile")).content.decode()
    assert "questions from other customers" in page.lower()
    client.post(
        reverse("customers:profile"),
        {"preferred_channel": "email", "notification_emails": "on", "community_emails": "on"},
    )
    anna.refresh_from_db()
    assert anna.community_emails
    record = ConsentRecord.objects.get(customer=anna)
    assert (record.topic, record.granted, record.source) == ("community", True, "profile")
    link = unsubscribe_url(customer=anna, topic="community").split("8000", 1)[1]
    assert b"answer other customers" in client.get(link).content
    client.post(link)
    anna.refresh_from_db()
    assert not anna.community_emails and anna.notification_emails


def test_tampered_unsubscribe_link_changes_nothing(client):
    anna = CustomerFactory(marketing_consent=True)
    link = unsubscribe_url(customer=anna, topic="marketing").split("8000", 1)[1]
    response = client.post(link.replace("/unsubscribe/", "/unsubscribe/x"))
    assert response.status_code == 404
    anna.refresh_from_db()
    assert anna.marketing_consent


# Export


def _archive(export: DataExport) -> tuple[dict, list[str]]:
    export.refresh_from_db()
    with export.archive.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    return json.loads(archive.read("data.json")), archive.namelist()


def test_export_holds_profile_friends_and_photo_and_is_emailed(
    client, django_capture_on_commit_callbacks
):

    anna = CustomerFactory(phone="+44 20 7946 0000")
    ben = CustomerFactory()
    connection_befriend(customer=anna, other=ben)
    client.force_login(anna.user)
    _upload(client, "me.jpg", _image_bytes())
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("customers:data"))
    assert len(callbacks) == 1
    export = DataExport.objects.get(customer=anna)
    assert data_export_build(export_id=export.pk)
    assert not data_export_build(export_id=export.pk), "a second run does nothing"

    document, names = _archive(export)
    assert document["profile"]["account"]["email"] == anna.user.email
    assert document["profile"]["profile"]["phone"] == "+44 20 7946 0000"
    assert [friend["name"] for friend in document["profile"]["friends"]] == [ben.name]
    anna.refresh_from_db()
    assert f"files/{anna.avatar.name}" in names
    assert mail.outbox[-1].to == [anna.user.email]

    page = client.get(reverse("customers:data")).content.decode()
    download = reverse("customers:data_download", args=[export.public_id])
    assert download in page
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def test_another_customer_cannot_download_an_export(client):
    anna, ben = CustomerFactory(), CustomerFactory()
    export = data_export_request(customer=anna, source="customer")
    data_export_build(export_id=export.pk)
    client.force_login(ben.user)
    assert (
        client.get(reverse("customers:data_download", args=[export.public_id])).status_code == 404
    )


def test_a_second_request_while_one_is_running_reuses_it():
    anna = CustomerFactory()
    first = data_export_request(customer=anna, source="customer")
    assert data_export_request(customer=anna, source="customer") == first


def test_every_model_that_refers_to_a_customer_is_exported_or_exempt_with_a_reason():
    anna = CustomerFactory()
    covered = {
        model for section in personal_data_sections(customer=anna) for model in section.models
    }
    covered_labels = {model._meta.label for model in covered}
    missing = []
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        refers = any(
            field.is_relation and field.related_model in (Customer, User)
            for field in model._meta.get_fields()
            if not field.auto_created or field.concrete
        )
        label = model._meta.label
        if (refers or model in (Customer, User)) and label not in covered_labels | set(
            EXPORT_EXEMPT
        ):
            missing.append(label)
    assert missing == []


# Erasure


def _personal_text_left(values: list[str]) -> list[str]:
    found = []
    for model in apps.get_models():
        text_fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
        ]
        for value in values:
            query = models.Q()
            for name in text_fields:
                query |= models.Q(**{f"{name}__icontains": value})
            if text_fields and model._default_manager.filter(query).exists():
                found.append(f"{model._meta.label}: {value}")
    return found


def test_erasure_leaves_no_personal_datum_and_friends_see_a_former_member(client):

    anna = CustomerFactory(
        email="anna.erased@example.com", first_name="Annabelle", last_name="Zyx", phone="0799"
    )
    ben = CustomerFactory()
    connection_befriend(customer=anna, other=ben)
    customer_profile_update(customer=anna, marketing_consent=True, interests="Orchids")
    client.force_login(anna.user)
    _upload(client, "me.jpg", _image_bytes())
    export = data_export_request(customer=anna, source="customer")
    data_export_build(export_id=export.pk)
    anna.refresh_from_db()
    avatar = anna.avatar.name

    response = client.post(reverse("customers:account_delete"), {"password": PASSWORD})
    assert response.status_code == 302

    assert _personal_text_left(["anna.erased@example.com", "Annabelle", "Zyx", "Orchids"]) == []
    anna.refresh_from_db()
    assert anna.erased_at and not anna.avatar and not anna.phone
    assert not anna.avatar.storage.exists(avatar)
    assert not anna.user.is_active and not anna.user.has_usable_password()
    assert (
        Connection.objects.filter(addressee=anna).exists()
        or Connection.objects.filter(requester=anna).exists()
    )
    client.force_login(ben.user)
    assert "A former member" in client.get(reverse("customers:friends")).content.decode()
    assert not customer_erase(customer=anna, source="customer"), "a second erasure does nothing"


def test_erasure_refused_with_a_wrong_password(client):
    anna = CustomerFactory()
    client.force_login(anna.user)
    response = client.post(reverse("customers:account_delete"), {"password": "wrong"})
    assert response.status_code == 200
    assert "not your password" in response.content.decode()
    anna.refresh_from_db()
    assert anna.erased_at is None and anna.user.is_active


def test_an_erased_customer_cannot_log_in(client):
    anna = CustomerFactory(email="gone@example.com")
    customer_erase(customer=anna, source="customer")
    assert not client.login(email="gone@example.com", password=PASSWORD)


# Staff access trail and groups


def test_admin_views_and_changes_of_a_customer_are_in_the_trail(admin_client):
    anna = CustomerFactory()
    url = reverse("admin:customers_customer_change", args=[anna.pk])
    assert admin_client.get(url).status_code == 200
    admin_client.get(reverse("admin:customers_user_change", args=[anna.user.pk]))
    trail = list(StaffAccess.objects.values_list("action", "customer", "path"))
    assert ("view", anna.pk, url) in trail
    assert len(trail) == 2
    assert admin_client.get(reverse("admin:customers_staffaccess_changelist")).status_code == 200


def test_staff_erase_and_export_from_the_admin_are_in_the_trail(admin_client):
    anna = CustomerFactory()
    changelist = reverse("admin:customers_customer_changelist")
    admin_client.post(changelist, {"action": "export_data", "_selected_action": [anna.pk]})
    assert DataExport.objects.get(customer=anna).source == "staff"
    confirm = admin_client.post(changelist, {"action": "erase", "_selected_action": [anna.pk]})
    assert b"cannot be undone" in confirm.content
    anna.refresh_from_db()
    assert anna.erased_at is None
    admin_client.post(
        changelist, {"action": "erase", "_selected_action": [anna.pk], "confirmed": "yes"}
    )
    anna.refresh_from_db()
    assert anna.erased_at is not None
    assert set(StaffAccess.objects.values_list("action", flat=True)) == {"export", "erase"}


def test_only_superusers_see_the_trail(client):
    staff = _staff()
    staff.user_permissions.add(*Group.objects.get(name="Support").permissions.all())
    login_with_second_factor(client, staff)
    assert client.get(reverse("admin:customers_staffaccess_changelist")).status_code == 403
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 200
    anna = CustomerFactory()
    assert (
        client.post(
            reverse("admin:customers_customer_delete", args=[anna.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_trail_cannot_be_edited_in_the_database():

    staff, anna = _staff(), CustomerFactory()
    StaffAccess.objects.create(staff=staff, customer=anna, action="view")
    with pytest.raises(DatabaseError), transaction.atomic():
        StaffAccess.objects.update(action="change")
    with pytest.raises(DatabaseError), transaction.atomic():
        StaffAccess.objects.all().delete()


def test_staff_groups_follow_least_privilege():
    support = set(Group.objects.get(name="Support").permissions.values_list("codename", flat=True))
    finance = set(Group.objects.get(name="Finance").permissions.values_list("codename", flat=True))
    assert "change_customer" in support and "view_staffaccess" not in support
    assert "view_customer" not in finance
    assert not any(codename.startswith("delete_") for codename in support | finance)


def test_erasure_forgets_invitation_addresses_but_keeps_their_hash():

    anna, ben = CustomerFactory(), CustomerFactory()
    for sender, email, note in [
        (anna, "friend.of.anna@example.com", "Hi from Anna"),
        (ben, anna.user.email, "Ben says hi"),
    ]:
        Invitation.objects.create(
            sender=sender,
            email=email,
            email_key=email_key(email),
            note=note,
            token_salt="s",
            token_hash=email_key(email + "token"),
            queued_at=timezone.now(),
        )
    customer_erase(customer=anna, source="customer")
    assert _personal_text_left(["Ben says hi"]) == []
    assert _personal_text_left(["friend.of.anna@example.com", "Hi from Anna"]) == []
    sent = Invitation.objects.get(sender=anna)
    assert sent.status == "cancelled"
    assert sent.email_key == email_key("friend.of.anna@example.com")


def test_erasure_after_a_full_life_leaves_no_trace_and_keeps_the_books(tasks_inline):

    active_program()
    anna = CustomerFactory(email="zelda.q@example.com", first_name="Zelda", last_name="Quix")
    ben = CustomerFactory(first_name="Ben")
    referral_attribute(customer=anna, code=ben.referral_code, source="link")
    referral_conversion_qualify(conversion=purchase(anna))
    invitations_create(sender=anna, addresses="pal.of.zelda@example.org", note="From Zelda")
    connection_befriend(customer=anna, other=ben)
    points_award(customer=anna, points=100, kind="earn", memo="Order")
    gift_to_friend(sender=anna, recipient=ben, points=40, note="For you, love Zelda")
    subject = SubjectFactory()
    review_create(author=anna, subject=subject, rating=5, title="Zelda loves it", body="Quix!")
    question_ask(author=anna, subject=subject, body="Zelda asks: decaf too?")
    bens_question = question_ask(author=ben, subject=subject, body="Good as espresso?")
    answer_create(question=bens_question, author=anna.user, body="Quix says yes.")
    totals = list(Entry.objects.values_list("account_id", "amount").order_by("pk"))
    balances = list(
        Account.objects.values_list("settled_balance", "pending_balance").order_by("pk")
    )

    customer_erase(customer=anna, source="customer")

    assert _personal_text_left(["zelda.q@example.com", "Zelda", "Quix", "pal.of.zelda"]) == []
    assert ledger_audit().clean
    assert list(Entry.objects.values_list("account_id", "amount").order_by("pk")) == totals
    assert (
        list(Account.objects.order_by("pk").values_list("settled_balance", "pending_balance"))
        == balances
    )
