"""The portal's Content-Security-Policy (Django 5.2 has none built in).

The portal serves its own CSS, images and scripts only, with no inline script
or style, so a strict same-origin policy costs nothing and makes an injected
`<script>` or `style` attribute inert. The admin (Django's own templates) and
the API are left out: it is the portal's policy (the API's reference page sets one of its
own, in partners/docs.py).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

EXEMPT_PREFIXES = ("/admin/", "/api/")
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
        if (
            settings.CONTENT_SECURITY_POLICY
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not _is_debug_page(response)
        ):
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
