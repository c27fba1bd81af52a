"""Settings and URLs of the benchmark's server: the project, plus one bare view (the ceiling).

Used by bench/partner_api.py as DJANGO_SETTINGS_MODULE and ROOT_URLCONF at once.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "partner_api_site"


def _bare(request, pk: int):
    """One primary-key read and a JSON answer: what any view costs at least."""
    from django.http import JsonResponse

    from customers.models import Customer

    row = Customer.objects.values("public_id", "referral_code").get(pk=pk)
    return JsonResponse({"id": str(row["public_id"]), "referral_code": row["referral_code"]})


def __getattr__(name: str):
    # The URL patterns are built on first use, after Django is set up (this module is
    # imported as settings first, when the project's URLs cannot be imported yet).
    if name == "urlpatterns":
        from django.urls import path

        from config.urls import urlpatterns

        return [path("bench/bare/<int:pk>/", _bare), *urlpatterns]
    raise AttributeError(name)
