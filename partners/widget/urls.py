from django.urls import path

from partners.widget import views

app_name = "widget"

urlpatterns = [
    path("v1.js", views.script, name="script"),
    path("v1/panel/", views.panel, name="panel"),
    path("v1/redeem/", views.redeem, name="redeem"),
    path("v1/reviews/<slug:slug>/", views.reviews, name="reviews"),
]
