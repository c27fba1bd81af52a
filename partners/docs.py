"""The partner API's reference page (Redoc), served entirely from the project's static files."""

from __future__ import annotations

from drf_spectacular.views import SpectacularRedocView

# Everything comes from this origin. Redoc injects its styles at run time, builds its search
# worker from a blob and draws icons as data: URLs; its Redocly logo (an image on a CDN) is
# refused and hidden by api-docs.css.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class APIReferenceView(SpectacularRedocView):
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response
