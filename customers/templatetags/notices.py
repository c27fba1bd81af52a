"""The bell in the portal's header: `{% unread_notice_count as unread %}`."""

from __future__ import annotations

from django import template

from customers.notices import unread_notice_count as count_unread

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notice_count(context) -> int:
    """Unread notices of the signed-in customer; asked only where the header shows the bell."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    return count_unread(user=user)
