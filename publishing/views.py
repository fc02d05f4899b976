"""The Posts page: function views, every lookup scoped to the signed-in user (another id is a 404).

Every change goes through publishing.services; a service answering False (someone else changed the
date first: it published, or the user clicked twice) becomes a message, never an error page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from platforms.models import SocialAccount
from publishing import pipeline, selectors, services, signin, uploads
from publishing.filters import PostPageFilter
from publishing.forms import (
    AddDatesForm,
    ComposeForm,
    ConfirmPublishedForm,
    EditPostForm,
    RescheduleForm,
    TimeZoneForm,
)
from publishing.models import Post, ScheduleEntry

PAGE_SIZE = 20
DATES_PAGE_SIZE = 50
Status = ScheduleEntry.Status


def _owner_id(request: HttpRequest) -> int:
    owner_id = request.user.pk
    assert owner_id is not None  # every view here is login_required
    return int(owner_id)


def _annotate(posts: Iterable[Post]) -> bool:
    """Mark each post editable or not and its section of the page, from its loaded dates; True if
    any date may still change."""
    live = False
    shown = int(settings.SOSOCIAL_DATES_SHOWN_PER_POST)
    for post in posts:
        entries = list(post.entries.all())
        post.editable = not any(entry.status in ScheduleEntry.LOCKING for entry in entries)  # type: ignore[attr-defined]
        # The page renders a few dates per post; the post's own page pages through the rest.
        post.shown_entries = entries[:shown]  # type: ignore[attr-defined]
        post.more_entries = max(0, len(entries) - shown)  # type: ignore[attr-defined]
        post.published = any(entry.status == Status.PUBLISHED for entry in entries)  # type: ignore[attr-defined]
        post.section = (  # type: ignore[attr-defined]
            "draft" if not entries else "upcoming" if any(e.is_moving for e in entries) else "past"
        )
        live = live or any(entry.is_moving for entry in entries)
    return live


# -- the list -------------------------------------------------------------------------------------
class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
def post_list(request: HtmxHttpRequest) -> HttpResponse:
    owner_id = _owner_id(request)
    posts = selectors.posts_by_date(owner_id=owner_id)
    filters = PostPageFilter(request.GET or None, queryset=posts, owner_id=owner_id)
    if filters.is_bound and filters.is_valid():  # a wrong filter shows its error and every post
        posts = filters.qs
    page = Paginator(posts, PAGE_SIZE).get_page(request.GET.get("page"))
    live = _annotate(page.object_list)
    selectors.attach_group_accounts(page.object_list)
    # Filtered, the page shows what was asked for; unfiltered, what needs attention comes first.
    filtering = any(key != "page" for key in request.GET)
    attention = selectors.Attention() if filtering else selectors.needs_attention(owner_id=owner_id)
    context = {
        "page": page,
        "filters": filters.form,
        "live": live,
        "attention": attention,
        "here": request.get_full_path(),
        "paused": selectors.paused_counts(owner_id=owner_id),
    }
    if request.htmx:
        return render(request, "publishing/_posts.html", context)
    return render(request, "publishing/post_list.html", context)


# -- compose and edit -----------------------------------------------------------------------------
FIELD_OF = {"when": "dates", "post": "text", "media": "attachments", "account": "accounts"}


@login_required
def compose(request: HttpRequest) -> HttpResponse:
    """One post per chosen account; services.compose_for_accounts saves all of them or none."""
    owner_id = _owner_id(request)
    form = ComposeForm(
        request.POST or None,
        request.FILES or None,
        owner_id=owner_id,
        initial={"time_zone": timezone.get_current_timezone_name()},
    )
    for refused in uploads.refused_while_receiving(request):
        if form.is_bound:
            form.add_error("attachments", refused)
        else:
            messages.error(request, refused)
    draft = request.POST.get("action") == "draft"
    if request.method == "POST" and form.is_valid():
        accounts = list(form.cleaned_data["accounts"])
        when = [] if draft else form.cleaned_data["when"]
        try:
            if not when and not draft:
                raise ValidationError({"when": "Add a date, or save the post as a draft."})
            services.compose_for_accounts(
                owner_id=owner_id,
                account_ids=[account.pk for account in accounts],
                text=form.cleaned_data["text"],
                when=when,
                options=form.options(),
                media=form.cleaned_data["attachments"],
            )
        except ValidationError as refused:
            _show(form, refused, FIELD_OF)
        else:
            count = len(accounts)
            if draft:
                messages.success(request, "Saved as a draft: add dates from its page when you are ready.")
            else:
                messages.success(request, "Scheduled." if count == 1 else f"Scheduled {count} posts.")
                _warn_about_x(request, accounts, when)
            return _done(request, reverse("publishing:post_list"))
    return render(request, "publishing/compose.html", {"form": form, "platforms": _account_data(form)})


def _warn_about_x(request: HttpRequest, accounts: Iterable[SocialAccount], when: list[datetime]) -> None:
    # X refuses a text it has already published: the second date would fail as a duplicate.
    if len(when) > 1 and any(account.platform == SocialAccount.Kind.X for account in accounts):
        messages.warning(
            request,
            "X refuses a text it has already published: only the first date to X will go out unless "
            "you change the text of the others (duplicate the post for each date).",
        )


def _done(request: HttpRequest, url: str) -> HttpResponse:
    """Leave a form page: a whole-page visit when htmx sent the form (it keeps the page otherwise)."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _account_data(form: forms.Form) -> dict[str, dict[str, str]]:
    """Each offered account's platform and name, for the live counters and previews."""
    field = form.fields["accounts"]
    assert isinstance(field, forms.ModelMultipleChoiceField)
    assert field.queryset is not None
    return {
        str(account.pk): {"platform": account.platform, "name": str(account)} for account in field.queryset
    }


def _post(request: HttpRequest, post_id: int) -> Post:
    try:
        return selectors.post_of(owner_id=_owner_id(request), post_id=post_id)
    except Post.DoesNotExist:
        raise Http404("No such post") from None


@login_required
def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    """A post's page: its text, edited for every account it was composed for while nothing of theirs
    has gone out, its dates per account with their actions, and more dates (to a draft, say)."""
    post = _post(request, post_id)
    together = services.posts_together(post)
    adding = request.method == "POST" and "dates" in request.POST
    editing = request.method == "POST" and not adding
    form = EditPostForm(request.POST if editing else None, initial={"text": post.text})
    dates_form = AddDatesForm(
        request.POST if adding else None, initial={"time_zone": timezone.get_current_timezone_name()}
    )
    done: HttpResponse | None = None
    if editing and form.is_valid():
        text = form.cleaned_data["text"]
        done = _saved(request, form, lambda: services.update_together(post=post, text=text), "Saved.")
    if adding and dates_form.is_valid():
        when = dates_form.cleaned_data["when"]
        done = _saved(
            request, dates_form, lambda: services.schedule_together(post=post, when=when), "Scheduled."
        )
    if done:
        return done
    for member in together:
        member.editable = not any(e.status in ScheduleEntry.LOCKING for e in member.entries.all())  # type: ignore[attr-defined]
        # A post may have many dates: each account's list pages through them.
        member.dates = Paginator(member.entries.all(), DATES_PAGE_SIZE).get_page(  # type: ignore[attr-defined]
            request.GET.get("dates_page")
        )
    context = {
        "form": form,
        "dates_form": dates_form,
        "post": post,
        "together": together,
        "dates": next(member.dates for member in together if member.pk == post.pk),  # type: ignore[attr-defined]
        "editable": any(member.editable for member in together),  # type: ignore[attr-defined]
        "editable_accounts": json.dumps(
            [str(member.account.pk) for member in together if member.editable]  # type: ignore[attr-defined]
        ),
        "platforms": {
            str(member.account.pk): {"platform": member.account.platform, "name": str(member.account)}
            for member in together
        },
        "media": [{"url": item.file.url, "type": item.content_type} for item in post.media.all()],
        "here": request.get_full_path(),
    }
    return render(request, "publishing/edit.html", context)


def _saved(
    request: HttpRequest, form: forms.Form, save: Callable[[], object], done: str
) -> HttpResponse | None:
    """Run `save`; back to the list if it worked, else None with the refusal shown on `form`."""
    try:
        save()
    except ValidationError as refused:
        _show(form, refused, FIELD_OF)
        return None
    messages.success(request, done)
    return redirect("publishing:post_list")


def _show(form: forms.Form, refused: ValidationError, fields: dict[str, str]) -> None:
    for field, problems in refused.message_dict.items():
        target = fields.get(field, field)
        for problem in problems:
            form.add_error(target if target in form.fields else None, problem)


@login_required
@require_POST
def post_duplicate(request: HttpRequest, post_id: int) -> HttpResponse:
    copy = services.duplicate_post(post=_post(request, post_id))
    messages.success(request, "Duplicated. The copy has no dates yet: add them here.")
    return redirect("publishing:post_edit", post_id=copy.pk)


@login_required
@require_POST
def post_delete(request: HttpRequest, post_id: int) -> HttpResponse:
    try:
        services.delete_post(post=_post(request, post_id))
    except ValidationError as refused:
        for problems in refused.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
    else:
        messages.success(request, "Deleted.")
    return _back(request)


# -- per date -------------------------------------------------------------------------------------
def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("publishing:post_list")


def _entry_action(
    request: HttpRequest, entry_id: int, act: Callable[[ScheduleEntry], bool], done: str
) -> HttpResponse:
    try:
        entry = selectors.entry_of(owner_id=_owner_id(request), entry_id=entry_id)
    except ScheduleEntry.DoesNotExist:
        raise Http404("No such date") from None
    try:
        changed = act(entry)
    except ValidationError as refused:
        for problems in refused.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
        return _back(request)
    if changed:
        messages.success(request, done)
    else:
        entry.refresh_from_db(fields=["status"])
        messages.warning(request, f"Nothing changed: this date is now {entry.get_status_display().lower()}.")
    return _back(request)


def _cleaned(form: forms.Form, field: str, problem: str) -> Any:
    """The form's one value, or its problem shown as a message (these forms are one field)."""
    if not form.is_valid():
        raise ValidationError({field: list(form.errors.get(field) or [problem])})
    return form.cleaned_data[field]


EntryAct = Callable[[ScheduleEntry, HttpRequest], bool]


def _entry_view(act: EntryAct, done: str) -> Callable[[HttpRequest, int], HttpResponse]:
    """A POST on one of the user's dates: `act` calls one service, `done` is said when it worked."""

    @login_required
    @require_POST
    def view(request: HttpRequest, entry_id: int) -> HttpResponse:
        return _entry_action(request, entry_id, lambda entry: act(entry, request), done)

    return view


entry_cancel = _entry_view(lambda entry, _: services.cancel_entry(entry=entry), "Cancelled.")
entry_retry = _entry_view(
    lambda entry, request: services.retry_entry(entry=entry, looked=request.POST.get("looked") == "on"),
    "Sending it now.",
)
entry_reconcile = _entry_view(
    lambda entry, _: pipeline.reconcile_now(entry=entry), "Checking with the platform."
)
entry_reschedule = _entry_view(
    lambda entry, request: services.reschedule_entry(
        entry=entry, when=_cleaned(RescheduleForm(request.POST), "when", "Pick a new date and time.")
    ),
    "Rescheduled.",
)
entry_confirm = _entry_view(
    lambda entry, request: services.confirm_published(
        entry=entry,
        platform_url=_cleaned(ConfirmPublishedForm(request.POST), "platform_url", "That is not a link."),
    ),
    "Marked as published.",
)


@login_required
@require_POST
def send_paused(request: HttpRequest) -> HttpResponse:
    """One click for every date paused while its account needed reconnecting (now reconnected)."""
    sent = services.send_paused_now(owner_id=_owner_id(request))
    messages.success(request, f"Sending {sent} paused date{'s' if sent != 1 else ''} now.")
    return _back(request)


@login_required
@require_POST
def account_retry(request: HttpRequest, account_id: int) -> HttpResponse:
    """After reconnecting: send again every date that failed while the account needed it."""
    sent = services.retry_account_failures(owner_id=_owner_id(request), account_id=account_id)
    if sent:
        messages.success(request, f"Sending {sent} date{'s' if sent != 1 else ''} again now.")
    else:
        messages.warning(request, "Nothing to send again: those dates changed in the meantime.")
    return _back(request)


# -- accounts -------------------------------------------------------------------------------------
# Warn this long before a token lapses, so the user can reconnect before a date is missed.
TOKEN_WARNING = timedelta(days=3)


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    """Each account with its health: token expiry, needs reconnect, and failed attempts in a day.

    Served here rather than by `platforms`, because the failures are publishing's; connecting and
    disconnecting stay with `platforms`.
    """
    now = timezone.now()
    accounts = selectors.accounts_with_health(owner_id=_owner_id(request), now=now)
    context = {
        "accounts": accounts,
        "platforms": SocialAccount.Kind.choices,
        "now": now,
        "warn_before": now + TOKEN_WARNING,
    }
    return render(request, "publishing/accounts.html", context)


# -- profile --------------------------------------------------------------------------------------
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    owner_id = _owner_id(request)
    saved = services.profile_for(owner_id)
    form = TimeZoneForm(
        request.POST or None,
        initial={
            "time_zone": saved.time_zone,
            "lateness_tolerance_minutes": saved.lateness_tolerance_minutes,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_time_zone(user_id=owner_id, time_zone=form.cleaned_data["time_zone"])
            if form.cleaned_data["lateness_tolerance_minutes"] is not None:
                services.set_lateness_tolerance(
                    user_id=owner_id, minutes=form.cleaned_data["lateness_tolerance_minutes"]
                )
        except ValidationError as refused:
            for field, problems in refused.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, "Saved. Dates now show in this time zone.")
            return redirect("publishing:profile")
    tokens = signin.live_tokens(owner_id)
    return render(request, "publishing/profile.html", {"form": form, "tokens": tokens})


@login_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    if signin.revoke_token(user_id=_owner_id(request), token_key=request.POST.get("token_key", "")):
        messages.success(request, "Token revoked: it no longer works.")
    else:
        messages.warning(request, "No such token: it may have expired or been revoked already.")
    return redirect("publishing:profile")
