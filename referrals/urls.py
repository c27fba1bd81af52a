from django.urls import path

from referrals import introduction_views, views

app_name = "referrals"

urlpatterns = [
    path("r/<str:code>/", views.landing, name="landing"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("no-more-invitations/<str:signed>/", views.suppress, name="suppress"),
    path("me/invite/", views.invite, name="invite"),
    path("me/invite/qr.png", views.qr_code, name="qr"),
    path("me/invite/<uuid:public_id>/resend/", views.resend, name="resend"),
    path("me/invite/<uuid:public_id>/cancel/", views.cancel, name="cancel"),
    path("me/introductions/", introduction_views.introductions, name="introductions"),
    path(
        "introductions/<str:token>/",
        introduction_views.introduction_answer_page,
        name="introduction_answer",
    ),
]
