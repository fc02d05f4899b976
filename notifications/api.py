"""Notifications in the API: list and mark read; webhook endpoints (the secret is shown once)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors, services
from notifications.models import Notification, WebhookEndpoint
from notifications.serializers import (
    MarkedSerializer,
    MarkReadSerializer,
    NotificationFilterSerializer,
    NotificationSerializer,
    WebhookCreatedSerializer,
    WebhookCreateSerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
)
from publishing.api import ApiPagination, requester_id, validated
from publishing.api_errors import INVALID, NOT_FOUND


class NotificationListView(generics.ListAPIView[Notification]):
    serializer_class = NotificationSerializer
    pagination_class = ApiPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        filters = validated(NotificationFilterSerializer, self.request.query_params)
        found = selectors.notifications_for(
            user_id=requester_id(self.request), unread_only=filters.get("unread") == "true"
        )
        return found.filter(event=filters["event"]) if "event" in filters else found

    @extend_schema(
        tags=["notifications"],
        summary="List your notifications, newest first",
        parameters=[NotificationFilterSerializer],
        responses={200: NotificationSerializer(many=True), 400: INVALID},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class NotificationReadView(APIView):
    @extend_schema(
        tags=["notifications"],
        summary="Mark notifications read",
        request=MarkReadSerializer,
        responses={200: MarkedSerializer, 400: INVALID},
    )
    def post(self, request: Request) -> Response:
        data = validated(MarkReadSerializer, request.data)
        marked = services.mark_read(user_id=requester_id(request), ids=None if data["all"] else data["ids"])
        return Response({"marked": marked})


class WebhookListView(generics.ListAPIView[WebhookEndpoint]):
    serializer_class = WebhookSerializer
    pagination_class = ApiPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return selectors.webhooks_for(user_id=requester_id(self.request))

    @extend_schema(
        tags=["webhooks"],
        summary="List your webhook endpoints",
        responses={200: WebhookSerializer(many=True), 400: INVALID},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["webhooks"],
        summary="Add a webhook endpoint; the answer shows its signing secret, once",
        request=WebhookCreateSerializer,
        responses={201: WebhookCreatedSerializer, 400: INVALID},
    )
    def post(self, request: Request) -> Response:
        data = validated(WebhookCreateSerializer, request.data)
        endpoint = services.create_webhook(user_id=requester_id(request), **data)
        return Response(WebhookCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    def _endpoint(self, request: Request, webhook_id: int) -> WebhookEndpoint:
        return selectors.webhook_of(user_id=requester_id(request), webhook_id=webhook_id)

    @extend_schema(tags=["webhooks"], responses={200: WebhookSerializer, 404: NOT_FOUND})
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(WebhookSerializer(self._endpoint(request, webhook_id)).data)

    @extend_schema(
        tags=["webhooks"],
        summary="Change a webhook endpoint, or turn it back on",
        request=WebhookUpdateSerializer,
        responses={200: WebhookSerializer, 400: INVALID, 404: NOT_FOUND},
    )
    def patch(self, request: Request, webhook_id: int) -> Response:
        endpoint = self._endpoint(request, webhook_id)
        data = validated(WebhookUpdateSerializer, request.data)
        endpoint = services.update_webhook(endpoint=endpoint, **data)
        return Response(WebhookSerializer(endpoint).data)

    @extend_schema(
        tags=["webhooks"], summary="Remove a webhook endpoint", responses={204: None, 404: NOT_FOUND}
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        services.delete_webhook(endpoint=self._endpoint(request, webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
