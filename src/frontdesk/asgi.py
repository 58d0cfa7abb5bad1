"""The entry point uvicorn serves (`make run`).

Pages are answered by Django's WSGI handler, run in a2wsgi's fixed pool of threads; only the
flow board's event stream, which stays open for as long as the board is shown, goes through
Django's ASGI handler, where it waits without holding a thread.

Why not Django's ASGI handler for everything: our middleware and views are synchronous, so for
each request it starts a thread of its own (asgiref's ThreadSensitiveContext) and switches
threads three times on the way in and out. Measured in one process on the signed-in session
keep-alive, that is 2.8-3.0 ms of CPU a request against 1.6 ms through the WSGI handler.

What Django's ASGI handler did and a2wsgi does not, done here: the request body is read in
full on the event loop before a page thread is taken (a slow upload holds no thread), and a
request whose client goes away before its body is complete never reaches a view (no form is
acted on with half its fields). A body over REQUEST_BODY_MAX_BYTES is refused with 413, before
it is read when its length is declared; a body sent in chunks gets the length it turned out to
have, which Django needs to read it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable
from typing import IO, Any

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]

streams = get_asgi_application()
pages: Any = WSGIMiddleware(
    get_wsgi_application(),  # type: ignore[arg-type]
    workers=settings.SERVER_THREADS,
)
STREAM_PATHS = frozenset({reverse("flow:board_events"), reverse("desk:queue_events")})
CHUNK = 64 * 1024


def _is_stream(scope: dict[str, Any]) -> bool:
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    return path in STREAM_PATHS


class _TooLargeError(Exception):
    pass


def _declared_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _whole_body(receive: Receive) -> tuple[IO[bytes], int] | None:
    """The body, kept in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE and on disk beyond (as
    Django's ASGI handler keeps it), with its length; None when the client went away first.
    Raises _TooLargeError once it passes REQUEST_BODY_MAX_BYTES."""
    body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            return None
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > settings.REQUEST_BODY_MAX_BYTES:
                body.close()
                raise _TooLargeError
            body.write(chunk)
        if not message.get("more_body", False):
            body.seek(0)
            return body, size


async def _too_large(send: Any) -> None:
    most = settings.REQUEST_BODY_MAX_BYTES // (1024 * 1024)
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Too large</title>"
        f"<p>That is more than Frontdesk takes in one go (at most {most} MB). Go back and "
        "choose smaller files; nothing was saved.</p></html>"
    ).encode()
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(page)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": page})


def _with_length(scope: dict[str, Any], declared: int | None, size: int) -> dict[str, Any]:
    """The scope with the body's real length when the client sent it in chunks without one."""
    if declared is not None or not size:
        return scope
    headers = [(n, v) for n, v in scope.get("headers", ()) if n.lower() != b"transfer-encoding"]
    return {**scope, "headers": [*headers, (b"content-length", str(size).encode())]}


def _replay(body: IO[bytes], size: int, receive: Receive) -> Receive:
    """`receive` for the page: the stored body in chunks, then the client's own messages."""
    left = size

    async def replayed() -> Message:
        nonlocal left
        if body.closed:
            return await receive()
        chunk = body.read(CHUNK)
        left -= len(chunk)
        if left <= 0:
            body.close()
        return {"type": "http.request", "body": chunk, "more_body": left > 0}

    return replayed


async def application(scope: dict[str, Any], receive: Receive, send: Any) -> None:
    if scope["type"] != "http" or _is_stream(scope):
        await streams(scope, receive, send)
        return
    declared = _declared_length(scope)
    if declared is not None and declared > settings.REQUEST_BODY_MAX_BYTES:
        await _too_large(send)  # before reading a byte of it
        return
    try:
        whole = await _whole_body(receive)
    except _TooLargeError:
        await _too_large(send)
        return
    if whole is None:
        return  # nobody is waiting for an answer
    body, size = whole
    try:
        await pages(_with_length(scope, declared, size), _replay(body, size, receive), send)
    finally:
        body.close()
