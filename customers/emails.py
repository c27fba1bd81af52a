"""Sending the portal's emails: one layout, an HTML and a text part, always."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def email_send(
    *,
    to: str,
    template: str,
    context: dict,
    headers: dict[str, str] | None = None,
    connection=None,
) -> None:
    """Render `emails/<template>_subject.txt`, `.txt` and `.html` and send them.

    Subjects are forced onto one line so that no text from a user can add a header.
    """
    context = {"business_name": settings.BUSINESS_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        to=[to],
        headers=headers or {},
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.send()
