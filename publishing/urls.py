from __future__ import annotations

from django.urls import path

from publishing import views

app_name = "publishing"

urlpatterns = [
    path("", views.post_list, name="post_list"),
    path("compose/", views.compose, name="compose"),
]
