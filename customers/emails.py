"""Sending the portal's emails: one layout, an HTML and a text part, always."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


def email_send(
    *,
    to: str,
    template: str,
    context: dict,
    headers: dict[str, str] | None = None,
    connection=None,
) -> None:
    """Render `emails/<template>_subject.txt`, `.txt` and `.html` and send them.

    Subjects are forced onto one line so that no text from a user can add a header. An
    `unsubscribe_url` in the context is shown at the foot of both parts.
    """
    context = {"business_name": settings.BUSINESS_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    body = render_to_string(f"emails/{template}.txt", context)
    if context.get("unsubscribe_url"):
        body += "\n-- \n" + _("Unsubscribe: %(url)s") % {"url": context["unsubscribe_url"]} + "\n"
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        to=[to],
        headers=headers or {},
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.send()
