"""What the compose and edit pages ask while the person types: each chosen platform's count of the
text, by the same rules the server checks with (platforms.counting), so counter and check agree."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from platforms.base import Platform
from platforms.counting import clean_text, count_text
from platforms.models import SocialAccount

# Longer than any platform's limit, so an over-long text is still counted, not refused here.
MAX_TEXT = 100_000


@login_required
@require_POST
def text_counts(request: HttpRequest) -> JsonResponse:
    """`text`, `platform` (repeated) and `photos` ("1" for a photo-only post) -> each count."""
    raw = request.POST.get("text", "")[:MAX_TEXT]
    text = clean_text(raw)
    known = {platform.value for platform in Platform}
    platforms = [name for name in dict.fromkeys(request.POST.getlist("platform")) if name in known]
    photos = request.POST.get("photos") == "1"
    labels = dict(SocialAccount.Kind.choices)
    counts = []
    for platform in platforms:
        counted = count_text(platform, text, photos=photos)
        counts.append(
            {
                "platform": platform,
                "label": labels[platform],
                "length": counted.length,
                "limit": counted.limit,
                "over": counted.over,
                "fits": counted.fits,
            }
        )
    return JsonResponse({"text": text, "counts": counts})
