"""Sending the portal's emails: one layout, an HTML and a text part, always."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Email:
    """A rendered email, ready to be sent to one or (see `email_deliver`) many addresses."""

    subject: str
    body: str
    html: str


def email_render(*, template: str, context: dict) -> Email:
    """Render `emails/<template>_subject.txt`, `.txt` and `.html`.

    Subjects are forced onto one line so that no text from a user can add a header. An
    `unsubscribe_url` in the context is shown at the foot of both parts.
    """
    context = {"business_name": settings.BUSINESS_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    body = render_to_string(f"emails/{template}.txt", context)
    if context.get("unsubscribe_url"):
        body += "\n-- \n" + _("Unsubscribe: %(url)s") % {"url": context["unsubscribe_url"]} + "\n"
    html = render_to_string(f"emails/{template}.html", context)
    return Email(subject=subject, body=body, html=html)


def email_deliver(
    *, to: str, email: Email, headers: dict[str, str] | None = None, connection=None
) -> None:
    """Send a rendered email, text with an HTML alternative, to one address."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        to=[to],
        headers=headers or {},
        connection=connection,
    )
    message.attach_alternative(email.html, "text/html")
    message.send()


def email_send(
    *,
    to: str,
    template: str,
    context: dict,
    headers: dict[str, str] | None = None,
    connection=None,
) -> None:
    """Render an email (see `email_render`) and send it to one address."""
    email_deliver(
        to=to,
        email=email_render(template=template, context=context),
        headers=headers,
        connection=connection,
    )
