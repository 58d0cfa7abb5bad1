"""The entry point uvicorn serves: pages through Django's WSGI handler in a thread pool, the
flow board's event stream through Django's ASGI handler; and `make run`'s command that runs the
server and the background worker side by side."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
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


async def _empty_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _ignore(message: dict[str, Any]) -> None:
    pass


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
        asyncio.run(asgi.application(_scope("GET", path), _empty_body, _ignore))
    mounted = {**_scope("GET", "/clinic/flow/board/events/"), "root_path": "/clinic"}
    asyncio.run(asgi.application(mounted, _empty_body, _ignore))
    asyncio.run(asgi.application({"type": "lifespan"}, _empty_body, _ignore))
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


def _recording_page(seen: list[bytes], started: list[str] | None = None) -> Any:
    """A stand-in for the page pool: notes that it started (a2wsgi would take a thread here),
    reads the body as a2wsgi does, answers 204."""

    async def page(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if started is not None:
            started.append(scope["path"])
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return page


def test_a_page_thread_is_taken_only_once_the_whole_body_has_arrived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bytes] = []
    started: list[str] = []
    monkeypatch.setattr(asgi, "pages", _recording_page(seen, started))

    async def slow_upload() -> None:
        parts: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        request = asyncio.create_task(
            asgi.application(_scope("POST", "/patients/new/"), parts.get, send)
        )
        await parts.put({"type": "http.request", "body": b"given_name=Ana&", "more_body": True})
        for _ in range(20):  # let the router run as far as it can with half a body
            await asyncio.sleep(0)
        assert started == [] and not request.done()
        await parts.put({"type": "http.request", "body": b"family_name=Lee", "more_body": False})
        await request
        assert seen == [b"given_name=Ana&family_name=Lee"]
        assert sent[0]["status"] == 204

    asyncio.run(slow_upload())


def test_a_request_whose_client_leaves_before_the_whole_body_never_reaches_a_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bytes] = []
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(asgi, "pages", _recording_page(seen))
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"csrfmiddlewaretoken=abc&reason=Pat", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asgi.application(_scope("POST", "/schedule/appointments/1/cancel/"), receive, send))
    assert seen == [] and sent == []


def test_a_body_larger_than_memory_allows_reaches_the_page_intact(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000  # kept on disk past this
    seen: list[bytes] = []
    monkeypatch.setattr(asgi, "pages", _recording_page(seen))
    upload = bytes(range(256)) * 800  # 204,800 bytes: several chunks each way
    parts = [upload[:70_000], upload[70_000:150_000], upload[150_000:]]
    messages = [
        {"type": "http.request", "body": part, "more_body": n < len(parts) - 1}
        for n, part in enumerate(parts)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(asgi.application(_scope("POST", "/patients/1/card/"), receive, send))
    assert seen == [upload]


def test_a_body_declared_too_large_is_refused_before_a_byte_of_it_is_read(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.REQUEST_BODY_MAX_BYTES = 1000
    seen: list[bytes] = []
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(asgi, "pages", _recording_page(seen))

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = _scope("POST", "/accounts/login/", [(b"content-length", b"300000000")])
    asyncio.run(asgi.application(scope, receive, send))
    assert seen == []
    assert sent[0]["status"] == 413
    assert b"more than Frontdesk takes in one go" in sent[1]["body"]


def test_a_body_sent_in_chunks_is_refused_once_it_passes_the_limit(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.REQUEST_BODY_MAX_BYTES = 1000
    seen: list[bytes] = []
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(asgi, "pages", _recording_page(seen))
    read = [0]

    async def receive() -> dict[str, Any]:
        read[0] += 1
        return {"type": "http.request", "body": b"x" * 400, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asgi.application(_scope("POST", "/patients/1/card/"), receive, send))
    assert seen == [] and read[0] == 3  # stopped at 1,200 bytes, never the endless rest
    assert sent[0]["status"] == 413


def test_a_body_sent_in_chunks_without_a_length_reaches_the_page_with_its_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scopes: list[dict[str, Any]] = []
    seen: list[bytes] = []
    page = _recording_page(seen)

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scopes.append(scope)
        await page(scope, receive, send)

    monkeypatch.setattr(asgi, "pages", recording)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"reason=Moved", "more_body": True},
        {"type": "http.request", "body": b"+away", "more_body": False},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = _scope("POST", "/x/", [(b"transfer-encoding", b"chunked")])
    asyncio.run(asgi.application(scope, receive, _ignore))
    assert seen == [b"reason=Moved+away"]
    headers = dict(scopes[0]["headers"])
    assert headers[b"content-length"] == b"17" and b"transfer-encoding" not in headers


@pytest.mark.usefixtures("transactional_audit")
def test_a_chunked_form_is_read_by_django_through_the_entry_point(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.front_desk)
    client.get("/")
    cookies = "; ".join(f"{key}={morsel.value}" for key, morsel in client.cookies.items())
    token = client.cookies["csrftoken"].value
    connection.close()
    headers = [
        (b"cookie", cookies.encode()),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"transfer-encoding", b"chunked"),
    ]
    body = f"csrfmiddlewaretoken={token}".encode()
    status, _ = asyncio.run(_call(_scope("POST", "/accounts/session/ping/", headers), body))
    assert status == 204  # without the length Django would read no token and answer 403


# --- `make run`: the server and the worker as one command (frontdesk/serve.py) ---------------


def _children_of(pid: int) -> dict[int, str]:
    """Running processes whose parent is `pid`, with their command lines."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields follow the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = command
    return found


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def _serve(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "FRONTDESK_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "FRONTDESK_DEMO": "true",
        "REDIS_URL": "",
    }
    process = subprocess.Popen(  # noqa: S603 - this interpreter and a fixed command
        [sys.executable, "-m", "frontdesk.serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                assert answer.read() == b"ok"
                break
        except OSError:
            assert time.monotonic() < deadline, "the server never answered"
            # Not yet listening: wait for the process to end, a fifth of a second at most.
            try:
                process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError("the server stopped before it answered") from None
    return process, port


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def test_make_runs_entry_point_serves_pages_and_one_sigint_stops_server_and_worker(
    tmp_path: Path,
) -> None:
    process, _ = _serve(tmp_path)
    try:
        children = _children_of(process.pid)
        assert len(children) == 2
        assert any("frontdesk worker" in c for c in children.values())
        assert any("uvicorn" in c for c in children.values())
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
        assert not [pid for pid in children if _alive(pid)], "a child was left running"
    finally:
        _stop(process)


def test_when_the_worker_dies_the_server_stops_too_and_the_exit_status_says_so(
    tmp_path: Path,
) -> None:
    process, port = _serve(tmp_path)
    try:
        children = _children_of(process.pid)
        worker = next(pid for pid, c in children.items() if "frontdesk worker" in c)
        os.kill(worker, signal.SIGKILL)
        assert process.wait(timeout=15) == 128 + signal.SIGKILL
        assert not [pid for pid in children if _alive(pid)], "a child was left running"
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        _stop(process)
