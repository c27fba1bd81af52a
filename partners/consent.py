"""The page where a person answers a merchant's request to link them (from the email).

Opening the link only shows the question: mail scanners open links before people do,
so the answer is a POST, one click more for the person.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from partners.links import link_answer, link_by_token


@require_http_methods(["GET", "POST"])
def link_consent(request: HttpRequest, token: str) -> HttpResponse:
    link = link_by_token(token)
    if link is None:
        return render(request, "partners/link_invalid.html", status=404)
    if request.method == "POST":
        accepted = request.POST.get("answer") == "yes"
        if request.POST.get("answer") not in ("yes", "no"):
            return render(request, "partners/link_consent.html", {"link": link}, status=400)
        link_answer(link_id=link.pk, accept=accepted)
        return render(request, "partners/link_answered.html", {"link": link, "accepted": accepted})
    return render(request, "partners/link_consent.html", {"link": link})
