from django.urls import path

from reviews import question_views, views

app_name = "reviews"

urlpatterns = [
    path("", views.subject_list, name="subject_list"),
    path("mine/", views.my_reviews, name="mine"),
    path("survey/<str:token>/", views.survey_comment, name="survey_comment"),
    path("survey/<str:token>/<int:score>/", views.survey_click, name="survey_answer"),
    path("review/<uuid:public_id>/helpful/", views.helpful, name="helpful"),
    path("question/<uuid:public_id>/", question_views.question_detail, name="question"),
    path("question/<uuid:public_id>/answer/", question_views.answer_write, name="answer"),
    path("answer/<uuid:public_id>/helpful/", question_views.answer_helpful, name="answer_helpful"),
    path("<slug:slug>/", views.subject_detail, name="subject"),
    path("<slug:slug>/write/", views.review_write, name="write"),
    path("<slug:slug>/ask/", question_views.ask, name="ask"),
]
