"""The REST API: small views that validate input, call one service or selector, and serialize the result.

Every lookup is scoped to the requesting user through the selectors, so another user's id is a 404.
Errors of every kind leave through publishing.api_errors in one format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Model, QuerySet
from django.urls import URLPattern
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, permissions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from platforms.models import SocialAccount
from publishing import pipeline, selectors, services, signin
from publishing.api_errors import CONFLICT, INVALID, LOCKED_OUT, NOT_FOUND, TOO_LARGE, Conflict
from publishing.filters import EntryFilter, PostFilter
from publishing.models import Post, PublishAttempt, ScheduleEntry
from publishing.parsers import BoundedFormParser, BoundedJSONParser
from publishing.serializers import (
    MAX_PAGE_SIZE,
    AccountSerializer,
    ApiIndexSerializer,
    AttemptSerializer,
    CredentialsSerializer,
    EntryDetailSerializer,
    EntrySerializer,
    PageSerializer,
    PostCreateSerializer,
    PostSerializer,
    PostUpdateSerializer,
    ProfileSerializer,
    RescheduleSerializer,
    ResolveSerializer,
    ScheduleSerializer,
    SentSerializer,
    TokenSerializer,
)

M = TypeVar("M", bound=Model)


class ApiPagination(PageNumberPagination):
    """DRF's page numbers, but a bad `page` or `page_size` is a 400 naming it, never silently replaced
    (DRF falls back to the default size) or a 404 (DRF's answer to a page past the end)."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    invalid_page_message = "There is no page {page_number}: {message}"

    def paginate_queryset(
        self, queryset: QuerySet[Any, Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        validated(PageSerializer, request.query_params)
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:
            raise serializers.ValidationError({self.page_query_param: [exc.detail]}) from exc

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        bounds = {"page": {"minimum": 1}, "page_size": {"minimum": 1, "maximum": MAX_PAGE_SIZE}}
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


def requester_id(request: Request) -> int:
    """The requesting user's id (shared by every API app)."""
    user_id = request.user.pk
    if user_id is None:  # IsAuthenticated runs first; this only narrows the type
        raise exceptions.NotAuthenticated()
    return int(user_id)


def validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _schema_only(view: APIView) -> bool:
    """drf-spectacular builds the schema with a fake request that has no user."""
    return bool(getattr(view, "swagger_fake_view", False))


def _owned(view: APIView, model: type[M], read: Callable[[int], QuerySet[M]]) -> QuerySet[M]:
    """The requesting user's rows, or none while drf-spectacular builds the schema."""
    if _schema_only(view):
        return model._default_manager.none()
    return read(requester_id(view.request))


# -- index ------------------------------------------------------------------------------------------
class ApiRootView(APIView):
    """What the API offers: each endpoint with its methods, and where the documentation is."""

    permission_classes = [AllowAny]

    @extend_schema(tags=["api"], summary="List the API's endpoints", responses={200: ApiIndexSerializer})
    def get(self, request: Request) -> Response:
        from publishing.api_urls import urlpatterns  # the routes list this view is part of

        endpoints = []
        for pattern in urlpatterns:
            if not isinstance(pattern, URLPattern):
                continue
            callback: Any = pattern.callback
            view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            methods = sorted(
                method.upper()
                for method in ("get", "post", "put", "patch", "delete")
                if view is not None and hasattr(view, method)
            )
            endpoints.append({"path": f"/api/{pattern.pattern}", "name": pattern.name, "methods": methods})
        return Response(
            {
                "endpoints": endpoints,
                "docs": request.build_absolute_uri("/api/docs/"),
                "schema": request.build_absolute_uri("/api/schema/"),
            }
        )


# -- token ------------------------------------------------------------------------------------------
class TokenView(APIView):
    """A new API token for a username and password. Only its digest is stored: it is shown once.
    Wrong passwords count towards the sign-in lockout shared with the login pages."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    # `curl -d username=... -d password=...` sends a form; JSON works too.
    parser_classes = [BoundedFormParser, BoundedJSONParser]

    @extend_schema(
        tags=["token"],
        summary="Exchange a username and password for an API token (with its expiry)",
        request=CredentialsSerializer,
        responses={200: TokenSerializer, 400: INVALID, 413: TOO_LARGE, 429: LOCKED_OUT},
    )
    def post(self, request: Request) -> Response:
        data = validated(CredentialsSerializer, request.data)
        # The Django request, not DRF's: django-axes marks it, and its middleware answers a lockout.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: ["Unable to log in with provided credentials."]}
            )
        if signin.too_many_tokens(int(user.pk)):
            raise serializers.ValidationError(
                {
                    api_settings.NON_FIELD_ERRORS_KEY: [
                        "You have as many API tokens as allowed; revoke one on your profile page first."
                    ]
                }
            )
        token, expiry = signin.issue_token(user)
        return Response(TokenSerializer({"token": token, "expiry": expiry}).data)


# -- accounts ---------------------------------------------------------------------------------------
@extend_schema(tags=["accounts"], responses={200: AccountSerializer(many=True), 400: INVALID})
class AccountListView(generics.ListAPIView[SocialAccount]):
    """Your connected accounts and their health."""

    serializer_class = AccountSerializer
    pagination_class = ApiPagination

    def get_queryset(self) -> QuerySet[SocialAccount]:
        return _owned(self, SocialAccount, lambda owner_id: selectors.accounts_with_health(owner_id=owner_id))


@extend_schema(tags=["accounts"], responses={200: AccountSerializer, 404: NOT_FOUND})
class AccountDetailView(generics.RetrieveAPIView[SocialAccount]):
    serializer_class = AccountSerializer
    lookup_url_kwarg = "account_id"

    def get_queryset(self) -> QuerySet[SocialAccount]:
        return _owned(self, SocialAccount, lambda owner_id: selectors.accounts_with_health(owner_id=owner_id))


# -- posts ------------------------------------------------------------------------------------------
@extend_schema_view(
    get=extend_schema(
        tags=["posts"],
        summary="List your posts, newest first, with their dates",
        responses={200: PostSerializer(many=True), 400: INVALID},
    )
)
class PostListView(generics.ListAPIView[Post]):
    serializer_class = PostSerializer
    # JSON, or multipart/form-data to send photos and videos with the post.
    parser_classes = [BoundedJSONParser, MultiPartParser]
    pagination_class = ApiPagination
    filterset_class = PostFilter

    def get_queryset(self) -> QuerySet[Post]:
        return _owned(self, Post, lambda owner_id: selectors.posts_for(owner_id=owner_id))

    @extend_schema(
        tags=["posts"],
        summary="Create a post (or one per account) with its media, scheduled at its dates or a draft",
        request={"application/json": PostCreateSerializer, "multipart/form-data": PostCreateSerializer},
        responses={
            201: PolymorphicProxySerializer(
                component_name="CreatedPosts",
                serializers=[PostSerializer, PostSerializer(many=True)],
                resource_type_field_name=None,
                many=False,
            ),
            400: INVALID,
        },
    )
    def post(self, request: Request) -> Response:
        owner_id = requester_id(request)
        data = validated(PostCreateSerializer, request.data)
        posts = services.compose_for_accounts(
            owner_id=owner_id,
            account_ids=data["accounts"] if "accounts" in data else [data["account"]],
            text=data["text"],
            when=data["when"],
            options=data.get("options"),
            media=data["media"],
        )
        created = selectors.posts_for(owner_id=owner_id).filter(pk__in=[post.pk for post in posts])
        if "account" in data:
            return Response(PostSerializer(created.get()).data, status=status.HTTP_201_CREATED)
        return Response(
            PostSerializer(created.order_by("id"), many=True).data, status=status.HTTP_201_CREATED
        )


class PostDetailView(APIView):
    @extend_schema(tags=["posts"], responses={200: PostSerializer, 404: NOT_FOUND})
    def get(self, request: Request, post_id: int) -> Response:
        post = selectors.post_of(owner_id=requester_id(request), post_id=post_id)
        return Response(PostSerializer(post).data)

    @extend_schema(
        tags=["posts"],
        summary="Edit the text or options while no date has gone out",
        request=PostUpdateSerializer,
        responses={200: PostSerializer, 400: INVALID, 404: NOT_FOUND},
    )
    def patch(self, request: Request, post_id: int) -> Response:
        post = selectors.post_of(owner_id=requester_id(request), post_id=post_id)
        data = validated(PostUpdateSerializer, request.data)
        post = services.update_post(post=post, text=data.get("text"), options=data.get("options"))
        return Response(PostSerializer(post).data)

    @extend_schema(
        tags=["posts"],
        summary="Delete a post and its dates",
        responses={204: None, 400: INVALID, 404: NOT_FOUND},
    )
    def delete(self, request: Request, post_id: int) -> Response:
        post = selectors.post_of(owner_id=requester_id(request), post_id=post_id)
        services.delete_post(post=post)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostDuplicateView(APIView):
    @extend_schema(
        tags=["posts"],
        summary="Copy a post (account, text, options, media) without its dates",
        request=None,
        responses={201: PostSerializer, 404: NOT_FOUND},
    )
    def post(self, request: Request, post_id: int) -> Response:
        owner_id = requester_id(request)
        copy = services.duplicate_post(post=selectors.post_of(owner_id=owner_id, post_id=post_id))
        created = selectors.post_of(owner_id=owner_id, post_id=copy.pk)
        return Response(PostSerializer(created).data, status=status.HTTP_201_CREATED)


class PostEntriesView(APIView):
    @extend_schema(
        tags=["posts"],
        summary="Add dates to a post",
        request=ScheduleSerializer,
        responses={201: EntrySerializer(many=True), 400: INVALID, 404: NOT_FOUND},
    )
    def post(self, request: Request, post_id: int) -> Response:
        post = selectors.post_of(owner_id=requester_id(request), post_id=post_id)
        data = validated(ScheduleSerializer, request.data)
        entries = services.schedule_post(post=post, when=data["when"])
        return Response(EntrySerializer(entries, many=True).data, status=status.HTTP_201_CREATED)


# -- entries ----------------------------------------------------------------------------------------
@extend_schema_view(
    get=extend_schema(
        tags=["entries"],
        summary="List your scheduled dates, soonest first",
        responses={200: EntryDetailSerializer(many=True), 400: INVALID},
    )
)
class EntryListView(generics.ListAPIView[ScheduleEntry]):
    serializer_class = EntryDetailSerializer
    pagination_class = ApiPagination
    filterset_class = EntryFilter

    def get_queryset(self) -> QuerySet[ScheduleEntry]:
        return _owned(self, ScheduleEntry, lambda owner_id: selectors.entries_for(owner_id=owner_id))


def _entry(request: Request, entry_id: int) -> ScheduleEntry:
    return selectors.entry_of(owner_id=requester_id(request), entry_id=entry_id)


def _entry_response(entry: ScheduleEntry) -> Response:
    return Response(EntryDetailSerializer(entry).data)


def _entry_action_schema(
    summary: str, body: type[serializers.Serializer[Any]] | None = None, *, refusable: bool = False
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """The schema of a POST on one date: a 409 when its status does not allow the action, a 400
    when a rule refuses it (`refusable`) or the body is invalid."""
    responses: dict[int, Any] = {200: EntryDetailSerializer, 404: NOT_FOUND, 409: CONFLICT}
    if body is not None or refusable:
        responses[400] = INVALID
    return extend_schema(tags=["entries"], summary=summary, request=body, responses=responses)


def _acted(entry: ScheduleEntry, changed: bool, action: str, done: str) -> Response:
    if not changed:
        _refuse(entry, action, done)
    return _entry_response(entry)


def _refuse(entry: ScheduleEntry, action: str, done: str) -> NoReturn:
    """A service said no: the date moved on (perhaps just now), so report what it is now."""
    entry.refresh_from_db(fields=["status"])
    raise Conflict(
        f"This date is {entry.get_status_display().lower()}, so it cannot be {done}; "
        f"only {ScheduleEntry.allowed_statuses(action)} dates can."
    )


class EntryDetailView(APIView):
    @extend_schema(tags=["entries"], responses={200: EntryDetailSerializer, 404: NOT_FOUND})
    def get(self, request: Request, entry_id: int) -> Response:
        return _entry_response(_entry(request, entry_id))


class EntryCancelView(APIView):
    @_entry_action_schema("Cancel a pending, retrying or paused date")
    def post(self, request: Request, entry_id: int) -> Response:
        entry = _entry(request, entry_id)
        return _acted(entry, services.cancel_entry(entry=entry), "cancel", "cancelled")


class EntryRescheduleView(APIView):
    @_entry_action_schema("Move a pending, retrying, failed or paused date", RescheduleSerializer)
    def post(self, request: Request, entry_id: int) -> Response:
        entry = _entry(request, entry_id)
        data = validated(RescheduleSerializer, request.data)
        return _acted(
            entry, services.reschedule_entry(entry=entry, when=data["when"]), "reschedule", "rescheduled"
        )


class EntryRetryView(APIView):
    @_entry_action_schema(
        "Publish a failed date again now (an unconfirmed one: `resolve` with `looked`)", refusable=True
    )
    def post(self, request: Request, entry_id: int) -> Response:
        entry = _entry(request, entry_id)
        return _acted(entry, services.retry_entry(entry=entry), "retry", "retried")


class EntryResolveView(APIView):
    @_entry_action_schema(
        "Settle a date whose outcome is unknown, after checking the platform", ResolveSerializer
    )
    def post(self, request: Request, entry_id: int) -> Response:
        entry = _entry(request, entry_id)
        data = validated(ResolveSerializer, request.data)
        if data["action"] == "published":
            done = services.confirm_published(
                entry=entry, platform_url=data["platform_url"], platform_post_id=data["platform_post_id"]
            )
        elif data["action"] == "send_again":
            done = services.retry_entry(entry=entry, looked=data["looked"])
        else:
            done = pipeline.reconcile_now(entry=entry)
        return _acted(entry, done, "resolve", "resolved")


class EntrySendPausedView(APIView):
    @extend_schema(
        tags=["entries"],
        summary="Send now every date paused while its account needed reconnecting (now reconnected)",
        request=None,
        responses={200: SentSerializer},
    )
    def post(self, request: Request) -> Response:
        return Response({"sent": services.send_paused_now(owner_id=requester_id(request))})


@extend_schema(tags=["entries"], responses={200: AttemptSerializer(many=True), 400: INVALID, 404: NOT_FOUND})
class EntryAttemptsView(generics.ListAPIView[PublishAttempt]):
    """Every publish attempt of one date, oldest first."""

    serializer_class = AttemptSerializer
    pagination_class = ApiPagination

    def get_queryset(self) -> QuerySet[PublishAttempt]:
        if _schema_only(self):
            return PublishAttempt.objects.none()
        return selectors.attempts_of(_entry(self.request, self.kwargs["entry_id"]))


# -- profile ----------------------------------------------------------------------------------------
class ProfileView(APIView):
    @extend_schema(tags=["profile"], responses={200: ProfileSerializer})
    def get(self, request: Request) -> Response:
        profile = services.profile_for(requester_id(request))
        return Response(ProfileSerializer(profile).data)

    @extend_schema(
        tags=["profile"],
        summary="Choose the time zone the web pages show dates in",
        request=ProfileSerializer,
        responses={200: ProfileSerializer, 400: INVALID},
    )
    def put(self, request: Request) -> Response:
        data = validated(ProfileSerializer, request.data)
        owner_id = requester_id(request)
        with transaction.atomic():
            profile = services.set_time_zone(user_id=owner_id, time_zone=data["time_zone"])
            if "lateness_tolerance_minutes" in data:
                profile = services.set_lateness_tolerance(
                    user_id=owner_id, minutes=data["lateness_tolerance_minutes"]
                )
        return Response(ProfileSerializer(profile).data)
