from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from publishing import views as publishing_views

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

# Uploaded media, served by Django only in development; production serves MEDIA_ROOT itself.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
