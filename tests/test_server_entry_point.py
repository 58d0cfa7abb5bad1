"""The entry point uvicorn serves: pages through Django's WSGI handler in a thread pool, the
flow board's event stream through Django's ASGI handler."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from conftest import Personas
from frontdesk import asgi


def _scope(method: str, path: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


async def _call(scope: dict[str, Any], body: bytes = b"") -> tuple[int, bytes]:
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop()
        await asyncio.Event().wait()  # the client never goes away on its own
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asgi.application(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, content


def test_pages_go_to_the_thread_pool_and_the_event_stream_to_django_asgi(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, str]] = []

    def recorder(name: str) -> Any:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            seen.append((name, scope.get("path", scope["type"])))

        return app

    monkeypatch.setattr(asgi, "pages", recorder("pages"))
    monkeypatch.setattr(asgi, "streams", recorder("streams"))
    for path in ("/", "/flow/board/", "/flow/board/events/", "/flow/board/events/x"):
        asyncio.run(asgi.application(_scope("GET", path), None, None))
    mounted = {**_scope("GET", "/clinic/flow/board/events/"), "root_path": "/clinic"}
    asyncio.run(asgi.application(mounted, None, None))
    asyncio.run(asgi.application({"type": "lifespan"}, None, None))
    assert seen == [
        ("pages", "/"),
        ("pages", "/flow/board/"),
        ("streams", "/flow/board/events/"),
        ("pages", "/flow/board/events/x"),
        ("streams", "/clinic/flow/board/events/"),
        ("streams", "lifespan"),
    ]


def test_a_page_is_answered_through_the_entry_point() -> None:
    assert asyncio.run(_call(_scope("GET", "/healthz"))) == (200, b"ok")


@pytest.mark.usefixtures("transactional_audit")
def test_a_signed_in_post_passes_every_middleware_through_the_entry_point(
    personas: Personas,
) -> None:
    client = Client()
    client.force_login(personas.front_desk)
    client.get("/")  # the CSRF cookie, as a browser gets it with its first page
    cookies = "; ".join(f"{key}={morsel.value}" for key, morsel in client.cookies.items())
    token = client.cookies["csrftoken"].value
    connection.close()
    headers = [
        (b"cookie", cookies.encode()),
        (b"content-type", b"application/x-www-form-urlencoded"),
    ]
    body = f"csrfmiddlewaretoken={token}".encode()
    sized = [*headers, (b"content-length", str(len(body)).encode())]
    status, _ = asyncio.run(_call(_scope("POST", "/accounts/session/ping/", sized), body))
    assert status == 204
    # Without the CSRF token the same post is refused: the middleware really ran.
    refused, _ = asyncio.run(_call(_scope("POST", "/accounts/session/ping/", headers)))
    assert refused == 403
