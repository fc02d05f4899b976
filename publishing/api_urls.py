from __future__ import annotations

from django.urls import URLPattern, URLResolver

# The REST API (DRF): filled in by publishing/api.py.
urlpatterns: list[URLPattern | URLResolver] = []
