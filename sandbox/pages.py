"""Pages for people: `/` lists accounts and their posts; permalinks render the post they name."""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlsplit

from sandbox.control import base_urls
from sandbox.faults import PLATFORMS
from sandbox.routing import Request, Response, Router, html_response
from sandbox.state import Post, State, iso

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
    "article{border:1px solid #ccc;border-radius:6px;padding:.6rem 1rem;margin:.5rem 0}"
    "small,code{color:#555}h2{margin-top:2rem}"
)


def register(router: Router) -> None:
    router.add("GET", r"/", home)
    router.add("GET", r"/(?:facebook|instagram|x|tiktok)/www/.+", permalink)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _post_html(post: Post) -> str:
    media = "".join(
        f"<li><code>{escape(str(item.get('type', '')))}</code> "
        f"{escape(str(item.get('url') or item.get('id', '')))}</li>"
        for item in post.media
    )
    return (
        f"<article><p>{escape(post.text) or '<em>(no text)</em>'}</p>"
        f"{f'<ul>{media}</ul>' if media else ''}"
        f"<small>{escape(post.kind)} · {escape(post.status)} · {iso(post.created_at)} · "
        f"<a href='{escape(post.permalink)}'>{escape(post.id)}</a></small></article>"
    )


def home(state: State, request: Request) -> Response:
    sections = [
        "<h1>SoSocial sandbox</h1><p>Facebook Pages, Instagram, X and TikTok on one port. "
        "Control API under <code>/_sandbox/</code>.</p>",
        "<details><summary>Settings for SoSocial</summary><pre>"
        + escape("\n".join(f"{k}={v}" for k, v in base_urls(request.base_url).items()))
        + "</pre></details>",
    ]
    for platform in PLATFORMS:
        accounts = [a for a in state.accounts.values() if a.platform == platform]
        sections.append(f"<h2>{escape(platform)}</h2>")
        if not accounts:
            sections.append("<p><em>No accounts yet.</em></p>")
        for account in accounts:
            posts = sorted(state.posts_of(platform, account.id), key=lambda p: p.created_at, reverse=True)
            sections.append(
                f"<h3>{escape(account.name)} <small>@{escape(account.username)} · "
                f"id {escape(account.id)}</small></h3>"
            )
            sections.extend(_post_html(post) for post in posts)
            if not posts:
                sections.append("<p><em>Nothing posted.</em></p>")
    return html_response(200, _page("SoSocial sandbox", "".join(sections)))


# X's own short form of a post's address, the one SoSocial's X client links to: /i/web/status/<id>.
X_WEB_STATUS = re.compile(r"^/x/www/i/web/status/(?P<id>\d+)/?$")


def permalink(state: State, request: Request) -> Response:
    short = X_WEB_STATUS.match(request.path)
    for post in state.posts.values():
        if (short and post.platform == "x" and post.id == short["id"]) or urlsplit(
            post.permalink
        ).path.rstrip("/") == request.path.rstrip("/"):
            account = state.accounts[post.account_id]
            body = (
                f"<h1>{escape(account.name)}</h1><p><small>on {escape(post.platform)}</small></p>"
                + _post_html(post)
            )
            return html_response(200, _page(f"{account.name} on {post.platform}", body))
    return html_response(404, _page("Not found", "<h1>This content isn't available</h1>"))
