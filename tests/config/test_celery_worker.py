import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.db import transaction
from django.urls import reverse

from customers.models import Customer, DataExport
from customers.services import customer_welcome
from tests.factories import PASSWORD, CustomerFactory
from tests.support import wait_for

pytestmark = pytest.mark.slow


def test_welcome_email_is_sent_by_a_real_worker_after_verification(
    celery_worker, smtp_sink, client
):
    client.post(
        reverse("account_signup"),
        {
            "email": "nora@example.com",
            "first_name": "Nora",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    address = EmailAddress.objects.get(email="nora@example.com")

    key = EmailConfirmationHMAC(address).key
    client.post(reverse("account_confirm_email", args=[key]))

    customer = Customer.objects.get(user__email="nora@example.com")
    # The address confirmation went too, through the same outbox and worker.
    messages = wait_for(lambda: len(smtp_sink.messages) == 2 and list(smtp_sink.messages))
    assert [m["To"] for m in messages] == ["nora@example.com"] * 2
    (message,) = [m for m in messages if "Welcome" in m["Subject"]]
    parts = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= parts
    assert customer.referral_code in message.as_string()


def test_worker_retries_a_refused_send_then_delivers(celery_worker, smtp_sink):

    smtp_sink.refuse_first = 1
    customer = CustomerFactory()

    with transaction.atomic():
        customer_welcome(customer=customer)
    wait_for(lambda: smtp_sink.messages, timeout=90)
    assert smtp_sink.attempts == 2
    assert len(smtp_sink.messages) == 1


def test_a_real_worker_builds_a_data_export_and_emails_the_link(celery_worker, smtp_sink, client):

    customer = CustomerFactory()
    client.force_login(customer.user)
    client.post(reverse("customers:data"))
    export = DataExport.objects.get(customer=customer)
    wait_for(lambda: DataExport.objects.get(pk=export.pk).status == "ready", timeout=60)
    assert DataExport.objects.get(pk=export.pk).progress == 100
    wait_for(lambda: smtp_sink.messages, timeout=30)
    assert smtp_sink.messages[0]["To"] == customer.user.email
    assert (
        client.get(reverse("customers:data_download", args=[export.public_id])).status_code == 200
    )
