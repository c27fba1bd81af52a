from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from partners import views
from partners.docs import APIReferenceView

app_name = "partners"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", APIReferenceView.as_view(url_name="partners:schema"), name="docs"),
    path("customers/", views.CustomerListView.as_view(), name="customers"),
    path("customers/<str:customer_id>/", views.CustomerDetailView.as_view(), name="customer"),
    path(
        "customers/<str:customer_id>/transactions/",
        views.CustomerTransactionsView.as_view(),
        name="customer-transactions",
    ),
    path(
        "customers/<str:customer_id>/points/",
        views.CustomerPointsView.as_view(),
        name="customer-points",
    ),
    path(
        "customers/<str:customer_id>/data-requests/",
        views.CustomerDataRequestView.as_view(),
        name="customer-data-requests",
    ),
    path(
        "customers/<str:customer_id>/redact/",
        views.CustomerRedactView.as_view(),
        name="customer-redact",
    ),
    path("referral-codes/<str:code>/", views.ReferralCodeView.as_view(), name="referral-code"),
    path("conversions/", views.ConversionListView.as_view(), name="conversions"),
    path(
        "conversions/<str:conversion_id>/refund/",
        views.ConversionRefundView.as_view(),
        name="conversion-refund",
    ),
    path("rewards/", views.RewardListView.as_view(), name="rewards"),
    path("redemptions/", views.RedemptionListView.as_view(), name="redemptions"),
    path("vouchers/<str:code>/", views.VoucherDetailView.as_view(), name="voucher"),
    path("vouchers/<str:code>/use/", views.VoucherUseView.as_view(), name="voucher-use"),
    path("reviews/", views.ReviewListView.as_view(), name="reviews"),
    path("reviews/summary/", views.ReviewSummaryView.as_view(), name="review-summary"),
    path("questions/", views.QuestionListView.as_view(), name="questions"),
    # Anything else under the API answers like the API: a JSON 404.
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not-found"),
]
