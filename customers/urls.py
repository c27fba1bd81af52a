from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("friends/", views.friends, name="friends"),
    path("friends/<int:pk>/respond/", views.friend_respond, name="friend_respond"),
    path("friends/<int:pk>/remove/", views.friend_remove, name="friend_remove"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:pk>/read/", views.notice_read, name="notice_read"),
    path("notices/read-all/", views.notices_read_all, name="notices_read_all"),
    path("data/", views.data, name="data"),
    path("data/<uuid:public_id>/download/", views.data_download, name="data_download"),
    path("delete/", views.account_delete, name="account_delete"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
