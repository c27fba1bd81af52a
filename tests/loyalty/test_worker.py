"""A staff gift campaign end to end through a real Celery worker and SMTP server."""

from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone

from loyalty.gifts import gift_campaign_create
from loyalty.models import GiftCampaign
from loyalty.selectors import balance
from tests.factories import CustomerFactory
from tests.support import wait_for

pytestmark = pytest.mark.slow


def test_a_real_worker_runs_a_campaign_and_emails_each_recipient(
    celery_worker, smtp_sink, django_user_model
):
    staff = django_user_model.objects.create_user(email="staff@example.com", is_staff=True)
    this_month = date(1990, timezone.localdate().month, 1)
    born_now = [CustomerFactory(birthday=this_month) for _ in range(3)]
    CustomerFactory()
    with transaction.atomic():
        campaign = gift_campaign_create(
            actor=staff, name="Birthday month", segment="birthday_month", points=40, note="Hi!"
        )
    wait_for(lambda: GiftCampaign.objects.get(pk=campaign.pk).status == "done", timeout=90)
    campaign.refresh_from_db()
    assert (campaign.total, campaign.done) == (3, 3)
    assert all(balance(customer=c).settled == 40 for c in born_now)
    wait_for(lambda: len(smtp_sink.messages) == 3, timeout=90)
    assert {m["To"] for m in smtp_sink.messages} == {c.user.email for c in born_now}
