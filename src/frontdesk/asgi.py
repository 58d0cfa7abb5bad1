"""The entry point uvicorn serves (`make run`).

Pages are answered by Django's WSGI handler, run in a2wsgi's fixed pool of threads; only the
flow board's event stream, which stays open for as long as the board is shown, goes through
Django's ASGI handler, where it waits without holding a thread.

Why not Django's ASGI handler for everything: our middleware and views are synchronous, so for
each request it starts a thread of its own (asgiref's ThreadSensitiveContext) and switches
threads three times on the way in and out. Measured in one process on the signed-in session
keep-alive, that is 2.8-3.0 ms of CPU a request against 1.6 ms through the WSGI handler.
"""

from __future__ import annotations

import os
from typing import Any

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")

streams = get_asgi_application()
pages: Any = WSGIMiddleware(
    get_wsgi_application(),  # type: ignore[arg-type]
    workers=settings.SERVER_THREADS,
)
STREAM_PATHS = frozenset({reverse("flow:board_events")})


def _is_stream(scope: dict[str, Any]) -> bool:
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    return path in STREAM_PATHS


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and not _is_stream(scope):
        await pages(scope, receive, send)
    else:
        await streams(scope, receive, send)
