"""The project's URLs plus the references the API benchmarks measure against, none with
authentication, throttling or idempotency: a bare Django view doing one primary-key read
(the ceiling), the same read as a bare DRF view, and one bare ledger posting (references,
measured in the same run)."""

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from loyalty.ledger import points_award
from loyalty.models import Transaction


def _customer_row(pk: int) -> dict:
    row = Customer.objects.filter(pk=pk).values("public_id", "referral_code").first()
    return {"id": str(row["public_id"]), "code": row["referral_code"]}


def bare_customer(request, pk: int) -> JsonResponse:
    return JsonResponse(_customer_row(pk))


class BareDRFCustomer(APIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()

    def get(self, request, pk: int) -> Response:
        return Response(_customer_row(pk))


@csrf_exempt
@require_POST
def bare_ledger_post(request, pk: int) -> JsonResponse:
    """One point to the customer, posted by the ledger service (its account row updated)."""
    customer = Customer.objects.get(pk=pk)
    posted = points_award(
        customer=customer, points=1, kind=Transaction.Kind.ADJUST, memo="Bench posting"
    )
    return JsonResponse({"id": str(posted.public_id)}, status=201)


urlpatterns = [
    path("bench/bare/<int:pk>/", bare_customer),
    path("bench/drf/<int:pk>/", BareDRFCustomer.as_view()),
    path("bench/ledger-post/<int:pk>/", bare_ledger_post),
    path("", include("config.urls")),
]
