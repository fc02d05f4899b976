from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from publishing.models import Post, ScheduleEntry


@login_required
def post_list(request: HttpRequest) -> HttpResponse:
    posts = (
        Post.objects.filter(owner_id=request.user.pk)
        .select_related("account")
        .prefetch_related(Prefetch("entries", queryset=ScheduleEntry.objects.order_by("scheduled_at")))
    )[:50]
    return render(request, "publishing/post_list.html", {"posts": posts})
