"""The portal's and the admin's Content-Security-Policy (Django 5.2 has none built in).

The portal serves its own CSS, images and scripts only, with no inline script
or style, so a strict same-origin policy costs nothing and makes an injected
`<script>` or `style` attribute inert. The admin, which shows what customers and
partners typed to the staff who can do most, gets a policy of its own
(ADMIN_CONTENT_SECURITY_POLICY): Django's admin runs no inline script, so scripts
are same-origin only there too. The API is left out (its reference page sets a policy of
its own, in partners/docs.py).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

ADMIN_PREFIX = "/admin/"
EXEMPT_PREFIXES = ("/api/",)
# Django's technical 404 and 500 pages (DEBUG only) carry this line, and style and script
# themselves inline: under the portal's policy a developer would see them unstyled.
DEBUG_PAGE_MARKER = b'<meta name="robots" content="NONE,NOARCHIVE">'


def _is_debug_page(response: HttpResponse) -> bool:
    return (
        settings.DEBUG
        and response.status_code >= 400
        and not response.streaming
        and DEBUG_PAGE_MARKER in response.content
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(ADMIN_PREFIX):
            policy = settings.ADMIN_CONTENT_SECURITY_POLICY
        elif request.path.startswith(EXEMPT_PREFIXES) or _is_debug_page(response):
            policy = ""
        else:
            policy = settings.CONTENT_SECURITY_POLICY
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        return response
