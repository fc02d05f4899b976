from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from publishing import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", api.ApiRootView.as_view(), name="api-root"),
    path("token/", api.TokenView.as_view(), name="api-token"),
    path("accounts/", api.AccountListView.as_view(), name="api-accounts"),
    path("accounts/<int:account_id>/", api.AccountDetailView.as_view(), name="api-account"),
    path("posts/", api.PostListView.as_view(), name="api-posts"),
    path("posts/<int:post_id>/", api.PostDetailView.as_view(), name="api-post"),
    path("posts/<int:post_id>/duplicate/", api.PostDuplicateView.as_view(), name="api-post-duplicate"),
    path("posts/<int:post_id>/entries/", api.PostEntriesView.as_view(), name="api-post-entries"),
    path("entries/", api.EntryListView.as_view(), name="api-entries"),
    path("entries/send-paused/", api.EntrySendPausedView.as_view(), name="api-entries-send-paused"),
    path("entries/<int:entry_id>/", api.EntryDetailView.as_view(), name="api-entry"),
    path("entries/<int:entry_id>/cancel/", api.EntryCancelView.as_view(), name="api-entry-cancel"),
    path(
        "entries/<int:entry_id>/reschedule/", api.EntryRescheduleView.as_view(), name="api-entry-reschedule"
    ),
    path("entries/<int:entry_id>/retry/", api.EntryRetryView.as_view(), name="api-entry-retry"),
    path("entries/<int:entry_id>/resolve/", api.EntryResolveView.as_view(), name="api-entry-resolve"),
    path("entries/<int:entry_id>/attempts/", api.EntryAttemptsView.as_view(), name="api-entry-attempts"),
    path("profile/", api.ProfileView.as_view(), name="api-profile"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs pages show no user content; Swagger UI keeps an inline style, Redoc an inline script.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path(
        "docs/redoc/",
        csp_update({"script-src": [UNSAFE_INLINE], "style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
]
