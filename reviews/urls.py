from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.subject_list, name="subject_list"),
    path("mine/", views.my_reviews, name="mine"),
    path("survey/<str:token>/", views.survey_comment, name="survey_comment"),
    path("survey/<str:token>/<int:score>/", views.survey_click, name="survey_answer"),
    path("review/<uuid:public_id>/helpful/", views.helpful, name="helpful"),
    path("<slug:slug>/", views.subject_detail, name="subject"),
    path("<slug:slug>/write/", views.review_write, name="write"),
]
