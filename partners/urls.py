from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from partners import views

app_name = "partners"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="partners:schema"), name="docs"),
    path("customers/", views.CustomerListView.as_view(), name="customers"),
    path("customers/<uuid:customer_id>/", views.CustomerDetailView.as_view(), name="customer"),
    path(
        "customers/<uuid:customer_id>/transactions/",
        views.CustomerTransactionsView.as_view(),
        name="customer-transactions",
    ),
    path(
        "customers/<uuid:customer_id>/points/",
        views.CustomerPointsView.as_view(),
        name="customer-points",
    ),
    path("referral-codes/<str:code>/", views.ReferralCodeView.as_view(), name="referral-code"),
    path("conversions/", views.ConversionListView.as_view(), name="conversions"),
    path(
        "conversions/<uuid:conversion_id>/refund/",
        views.ConversionRefundView.as_view(),
        name="conversion-refund",
    ),
]
