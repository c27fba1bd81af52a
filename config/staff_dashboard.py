"""The staff dashboard: referral funnel, points flow, top referrers, fraud queue, NPS.

It composes figures from several apps, so it lives at the top, in config.
"""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from config.charts import bar_chart, line_chart
from loyalty.reports import points_by_day, points_outstanding
from referrals.reports import (
    fraud_queue_size,
    funnel,
    introduction_figures,
    link_visits,
    top_referrers,
)
from reviews.selectors import nps_by_week

MAX_DAYS = 366


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The start must not be after the end."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(_("Choose a period of at most a year."))
        return cleaned


def _period(request) -> tuple[PeriodForm, datetime, datetime]:
    today = timezone.localdate()
    default = {"start": today - timedelta(days=29), "end": today}
    form = PeriodForm(request.GET if "start" in request.GET else default)
    bounds = form.cleaned_data if form.is_valid() else default
    zone = timezone.get_current_timezone()
    start = datetime.combine(bounds["start"], time.min, tzinfo=zone)
    end = datetime.combine(bounds["end"] + timedelta(days=1), time.min, tzinfo=zone)
    return form, start, end


def _daily(start: datetime, end: datetime) -> tuple[list[str], dict[str, list[int]]]:
    by_day = {row.day: row for row in points_by_day(start=start, end=end)}
    days = [(start + timedelta(days=n)).date() for n in range((end - start).days)]
    names = {
        "issued": pgettext("points", "Issued"),
        "pending": pgettext("points", "Put on hold"),
        "redeemed": pgettext("points", "Redeemed"),
        "expired": pgettext("points", "Expired"),
        "written_off": pgettext("points", "Written off"),
    }
    series = {
        label: [getattr(by_day[day], field) if day in by_day else 0 for day in days]
        for field, label in names.items()
    }
    return [day.isoformat() for day in days], series


def staff_dashboard(request):
    form, start, end = _period(request)
    steps = funnel(start=start, end=end)
    visits = link_visits(start=start, end=end)
    days, points = _daily(start, end)
    referrers = top_referrers(start=start, end=end)
    introductions = introduction_figures(start=start, end=end)
    if request.GET.get("format") == "csv":
        return _csv(steps, visits, days, points, referrers, introductions, start, end)
    context = {
        **admin.site.each_context(request),
        "title": _("Referrals and points at a glance"),
        "form": form,
        "steps": steps,
        "link_visits": visits,
        "funnel_chart": bar_chart(
            title=_("Referral funnel"), bars=[(step.label, step.count) for step in steps]
        ),
        "points_chart": line_chart(title=_("Points per day"), labels=days, series=points),
        "points_totals": {name: sum(values) for name, values in points.items()},
        "outstanding": points_outstanding(),
        # Names are personal data: shown only to staff who may see customers.
        "top_referrers": referrers if request.user.has_perm("customers.view_customer") else None,
        "fraud_queue": fraud_queue_size(),
        "introductions": introductions,
        **_nps(),
    }
    return TemplateResponse(request, "admin/staff_dashboard.html", context)


def _nps() -> dict:
    """The NPS of the last twelve weeks, week by week (answers come slowly: a longer view)."""
    weeks = nps_by_week(weeks=12)
    chart = line_chart(
        title=_("NPS per week"),
        labels=[week["week"].date().isoformat() for week in weeks],
        series={_("NPS"): [week["nps"] for week in weeks]},
    )
    return {"nps_weeks": weeks, "nps_chart": chart if weeks else None}


def _csv(steps, visits, days, points, referrers, introductions, start, end) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="kindred-{start:%Y-%m-%d}-{end - timedelta(days=1):%Y-%m-%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["section", "name", "value"])
    for step in steps:
        writer.writerow(["funnel", step.label, step.count])
    writer.writerow(["link_visits", _("Link visits"), visits])
    for customer, friends in referrers:
        writer.writerow(["top_referrer", customer.referral_code, friends])
    for label, count in introductions.by_stage:
        writer.writerow(["introductions", label, count])
    for name, count, won in introductions.by_contact:
        writer.writerow(["introductions_by_contact", name, count])
        writer.writerow(["introductions_won_by_contact", name, won])
    writer.writerow(
        ["introductions", _("Median hours to first reply"), introductions.first_reply_median_hours]
    )
    writer.writerow([])
    writer.writerow(["day", *points.keys()])
    for index, day in enumerate(days):
        writer.writerow([day, *(values[index] for values in points.values())])
    return response
