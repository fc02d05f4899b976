from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from publishing import views as publishing_views
from publishing.media_views import serve_media

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The accounts page shows publishing's failure counts; connecting is the platforms app's.
    path("social-accounts/", publishing_views.account_list, name="accounts"),
    path("social-accounts/", include("platforms.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/", include("notifications.api_urls")),
    path("api/", include("publishing.api_urls")),
    path("", include("publishing.urls")),
]
# A URL no route matches under /api/ still gets the API's error format.
handler404 = "publishing.api_errors.not_found"

# Uploaded media, with its detected type and never as a page. Also under this path when MEDIA_URL
# names a host of its own, in case that host is this app (README, Deploying).
MEDIA_PREFIX = urlsplit(settings.MEDIA_URL).path.strip("/") or "media"
urlpatterns.insert(0, path(f"{MEDIA_PREFIX}/<path:path>", serve_media, name="media"))
