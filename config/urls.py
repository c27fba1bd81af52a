from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from config.admin_login import admin_login_guard
from config.health import health, liveness
from config.metrics import metrics
from config.portal import dashboard, favicon, home
from config.staff_dashboard import staff_dashboard
from customers.views import language_switch
from partners.consent import link_consent

admin.site.site_header = f"{settings.BUSINESS_NAME}: Kindred staff"
admin.site.site_title = "Kindred staff"
admin.site.login = admin_login_guard(admin.site.login)

# The partner API first: Django tries patterns in order, and its requests are the most frequent.
urlpatterns = [
    path("api/v1/", include("partners.urls")),
    path("widget/", include("partners.widget.urls")),
    path("", home, name="home"),
    path("health/", health, name="health"),
    path("health/live/", liveness, name="liveness"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
    path("language/", language_switch, name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("me/dashboard/", dashboard, name="dashboard"),
    path("me/", include("customers.urls")),
    path("me/rewards/", include("loyalty.urls")),
    path("", include("referrals.urls")),
    path("reviews/", include("reviews.urls")),
    path("partner-links/<str:token>/", link_consent, name="partner-link-consent"),
    path("admin/dashboard/", admin.site.admin_view(staff_dashboard), name="staff_dashboard"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
