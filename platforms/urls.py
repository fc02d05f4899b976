from __future__ import annotations

from django.urls import path

from platforms import views

app_name = "platforms"

urlpatterns = [
    path("connect/<str:platform>/", views.connect_start, name="connect_start"),
    path("connect/<str:platform>/callback/", views.connect_callback, name="connect_callback"),
    path("connect/<str:platform>/choose/", views.connect_choose, name="connect_choose"),
    path("<int:account_id>/disconnect/", views.disconnect, name="disconnect"),
]
