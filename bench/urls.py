"""The project's URLs plus a bare Django view doing one primary-key read (no DRF, no auth)."""

from django.http import JsonResponse
from django.urls import include, path

from customers.models import Customer


def bare_customer(request, pk: int) -> JsonResponse:
    row = Customer.objects.filter(pk=pk).values("public_id", "referral_code").first()
    return JsonResponse({"id": str(row["public_id"]), "code": row["referral_code"]})


urlpatterns = [
    path("bench/bare/<int:pk>/", bare_customer),
    path("", include("config.urls")),
]
