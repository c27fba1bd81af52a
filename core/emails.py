"""Sending the portal's emails: one layout, an HTML and a text part, always.

`email_send` stores the rendered email in the outbox (`core.outbox`) in the caller's
transaction; a worker delivers it. `email_deliver` talks to the SMTP server at once: for
the outbox's worker and for invitations, whose own row is their outbox.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from email.policy import Compat32

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Email:
    """A rendered email, ready to be sent to one or (see `email_deliver`) many addresses."""

    subject: str
    body: str
    html: str


def email_render(*, template: str, context: dict, language: str | None = None) -> Email:
    """Render `emails/<template>_subject.txt`, `.txt` and `.html` in `language`.

    The language is the recipient's, never the sender's or the worker's: callers pass it
    (see `customers.languages.language_for_recipient`); None keeps the active one.
    Subjects are plain text, rendered without HTML escaping (a name's apostrophe must not
    arrive as `&#x27;`), and forced onto one line so that no text from a user can add a
    header. An `unsubscribe_url` in the context is shown at the foot of both parts.
    """
    with translation.override(language or translation.get_language()):
        return _render(template=template, context=context)


def _render(*, template: str, context: dict) -> Email:
    context = {"business_name": settings.BUSINESS_NAME, "site_url": settings.SITE_URL, **context}
    subject = Engine.get_default().get_template(f"emails/{template}_subject.txt")
    subject = " ".join(subject.render(Context(context, autoescape=False)).split())
    body = render_to_string(f"emails/{template}.txt", context)
    if context.get("unsubscribe_url"):
        body += "\n-- \n" + _("Unsubscribe: %(url)s") % {"url": context["unsubscribe_url"]} + "\n"
    html = render_to_string(f"emails/{template}.html", context)
    return Email(subject=subject, body=body, html=html)


class _Policy(Compat32):
    """compat32 (Django's policy), minus the cost of folding a header that needs none.

    A short line of printable ASCII comes out of `Header.encode` unchanged, yet encoding
    it is most of the time spent formatting a message; such a line is written as it is.
    """

    def _fold(self, name: str, value, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and self.max_line_length
            and len(name) + 2 + len(value) <= self.max_line_length
            and value.isascii()
            and value.isprintable()
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_POLICY = _Policy()


class _Message(EmailMultiAlternatives):
    """Django's message, formatted with `_Policy`: the same bytes, for less CPU."""

    def message(self):
        message = super().message()
        message.policy = _POLICY
        if message.is_multipart():
            # Chosen here, the boundary is not searched for in the parts, as the email
            # package does with a regular expression compiled for each message: a random
            # 128-bit value cannot appear in them by chance.
            message.set_boundary(f"==============={secrets.token_hex(16)}==")
        return message


def email_deliver(
    *,
    to: str,
    email: Email,
    headers: dict[str, str] | None = None,
    from_email: str | None = None,
    connection=None,
) -> None:
    """Send a rendered email, text with an HTML alternative, to one address, now."""
    message = _Message(
        subject=email.subject,
        body=email.body,
        from_email=from_email,
        to=[to],
        headers=headers or {},
        connection=connection,
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    message.send()


def email_send(
    *,
    to: str,
    template: str,
    context: dict,
    language: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Render an email in the recipient's `language` (see `email_render`) and store it in
    the outbox, in the current transaction: it is sent once that commits."""
    from core.outbox import outbox_email_store  # the outbox sends through email_deliver

    email = email_render(template=template, context=context, language=language)
    outbox_email_store(
        to=to, subject=email.subject, body=email.body, html=email.html, headers=headers
    )
