"""The staff dashboard: funnel, points per day, top referrers and the CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from config.charts import bar_chart, line_chart
from customers.models import User
from loyalty.ledger import points_award
from referrals.services import referral_attribute, referral_conversion_qualify
from reviews.models import Survey
from tests.factories import CustomerFactory, purchase
from tests.support import login_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def referred_purchase():
    anna, ben = CustomerFactory(), CustomerFactory()
    referral_attribute(customer=ben, code=anna.referral_code, source="link")
    referral_conversion_qualify(conversion=purchase(ben))
    points_award(customer=anna, points=75, kind="adjust", memo="Thanks")
    return anna, ben


def test_dashboard_shows_the_funnel_points_and_top_referrers(admin_client, referred_purchase):
    anna, _ben = referred_purchase
    page = admin_client.get(reverse("staff_dashboard")).content.decode()
    assert "<svg" in page and "Referral funnel" in page
    assert "Friends joined</th><td>1</td>" in page
    assert "Friends bought</th><td>1</td>" in page
    assert "Issued</th><td>75</td>" in page
    assert anna.referral_code in page


def test_csv_export_has_the_same_figures(admin_client, referred_purchase):
    anna, _ben = referred_purchase
    response = admin_client.get(reverse("staff_dashboard"), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["funnel", "Friends bought", "1"] in rows
    assert ["top_referrer", anna.referral_code, "1"] in rows
    today = timezone.localdate().isoformat()
    header = rows[
        rows.index(["day", "Issued", "Put on hold", "Redeemed", "Expired", "Written off"])
    ]
    assert header
    assert next(row for row in rows if row and row[0] == today)[1] == "75"


def test_a_period_with_nothing_in_it_shows_zeros(admin_client, referred_purchase):
    page = admin_client.get(
        reverse("staff_dashboard"), {"start": "2020-01-01", "end": "2020-01-31"}
    ).content.decode()
    assert "Friends bought</th><td>0</td>" in page
    assert "No friend bought through a referral in this period yet." in page


def test_a_backwards_period_is_explained(admin_client):
    page = admin_client.get(
        reverse("staff_dashboard"), {"start": "2026-02-01", "end": "2026-01-01"}
    ).content.decode()
    assert "The start must not be after the end." in page


def test_staff_without_customer_access_see_no_names(client, referred_purchase):
    anna, _ben = referred_purchase
    staff = User.objects.create_user(email="ops@example.com", password="x", is_staff=True)
    login_with_second_factor(client, staff)
    page = client.get(reverse("staff_dashboard")).content.decode()
    assert anna.referral_code not in page
    assert "You may not see customers" in page


def test_customers_cannot_open_the_dashboard(client):
    client.force_login(CustomerFactory().user)
    response = client.get(reverse("staff_dashboard"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_charts_escape_their_labels():
    svg = bar_chart(title="Funnel", bars=[("<script>alert(1)</script>", 3)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    lines = line_chart(title="T", labels=["a", "b"], series={"<b>x</b>": [1, 2]})
    assert "<b>" not in lines


def test_nps_trend_shows_the_weeks_with_answers(admin_client):

    anna = CustomerFactory()
    for score in (10, 9, 3):
        Survey.objects.create(
            conversion=purchase(anna),
            customer=anna,
            status=Survey.Status.ANSWERED,
            send_after=timezone.now(),
            score=score,
            answered_at=timezone.now(),
        )
    page = admin_client.get(reverse("staff_dashboard")).content.decode()
    assert "NPS per week" in page
    assert "<td>3</td><td>33</td>" in page  # 3 answers: 2 promoters, 1 detractor


def test_no_survey_answers_yet_says_so(admin_client):
    assert "No survey answers" in admin_client.get(reverse("staff_dashboard")).content.decode()
