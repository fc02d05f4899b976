"""SoSocial's sandbox: a local HTTP server speaking the Facebook Pages, Instagram (Facebook Login),
X API v2 and TikTok Content Posting APIs, so the real platform clients run against it with only their
base URLs changed. Standard library only; it never imports Django, `platforms` or `publishing`.

Run it with `python -m sandbox --port 8100` (or `python manage.py sandbox`); in tests use
`SandboxServer(port=0).start()`. Control API: `/_sandbox/` (see `control.py`); a page for people: `/`.
"""

from sandbox.server import SandboxServer

__all__ = ["SandboxServer"]
