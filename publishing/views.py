from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from publishing import services
from publishing.forms import ComposeForm
from publishing.models import Post, ScheduleEntry


def _owner_id(request: HttpRequest) -> int:
    owner_id = request.user.pk
    assert owner_id is not None  # every view here is login_required
    return int(owner_id)


@login_required
def post_list(request: HttpRequest) -> HttpResponse:
    posts = (
        Post.objects.filter(owner_id=_owner_id(request))
        .select_related("account")
        .prefetch_related(Prefetch("entries", queryset=ScheduleEntry.objects.order_by("scheduled_at")))
    )[:50]
    return render(request, "publishing/post_list.html", {"posts": posts})


@login_required
def compose(request: HttpRequest) -> HttpResponse:
    owner_id = _owner_id(request)
    form = ComposeForm(request.POST or None, request.FILES or None, owner_id=owner_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.compose_post(
                owner_id=owner_id,
                account=form.cleaned_data["account"],
                text=form.cleaned_data["text"],
                when=form.cleaned_data["when"],
                options=form.options(),
                media=form.cleaned_data["attachments"],
            )
        except ValidationError as refused:
            for field, problems in refused.message_dict.items():
                target = {"when": "dates", "post": "text", "media": "attachments"}.get(field, field)
                for problem in problems:
                    form.add_error(target if target in form.fields else None, problem)
        else:
            messages.success(request, "Scheduled.")
            return redirect("publishing:post_list")
    return render(request, "publishing/compose.html", {"form": form})
