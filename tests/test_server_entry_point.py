"""The server (`python -m frontdesk.wsgi`: waitress serving Django's WSGI handler) as a browser
meets it: whole bodies only, 413 for a body too large, a chunked form read whole; and
`make run`'s command that runs the server and the background worker side by side."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from conftest import Personas


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{db.get('USER') or 'postgres'}@{host}:{port}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answered(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                assert answer.read() == b"ok"
                return
        except OSError:
            assert time.monotonic() < deadline, "the server never answered"
            # Not yet listening: wait for the process to end, a fifth of a second at most.
            try:
                process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError("the server stopped before it answered") from None


class ServerLog:
    """The server's output, line by line as it writes it, read by a thread of its own; a test
    waits on the condition for the lines it expects instead of reading a file again."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            with self.changed:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.changed.notify_all()


@dataclass
class Served:
    port: int
    log: ServerLog

    def send(self, raw: bytes, *, close_early: bool = False, whole: bool = False) -> bytes:
        """Send raw bytes; the answer's bytes (its head, or all of it until the server closes
        when `whole`), or b"" when leaving without waiting for one."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(raw)
            if close_early:
                return b""
            answer = b""
            while whole or b"\r\n\r\n" not in answer:
                part = sock.recv(65536)
                if not part:
                    break
                answer += part
            return answer

    def logged(self, wanted: str, *, times: int = 1) -> list[str]:
        """The server's log lines, once `times` of them hold `wanted` (ten seconds at most)."""

        def enough() -> bool:
            return sum(wanted in line for line in self.log.lines) >= times

        with self.log.changed:
            assert self.log.changed.wait_for(enough, timeout=10), f"never logged: {wanted}"
            return list(self.log.lines)


@pytest.fixture
def served(transactional_audit: None) -> Iterator[Served]:
    """`python -m frontdesk.wsgi` on this test's database, its log (the access log) in a file."""
    port = _free_port()
    root = Path(settings.BASE_DIR)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "frontdesk.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": "",
        "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}",
    }
    process = subprocess.Popen(  # noqa: S603 - this interpreter and a fixed command
        [sys.executable, "-m", "frontdesk.wsgi", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    log = ServerLog(process.stdout)
    try:
        _answered(port, process)
        yield Served(port, log)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.reader.join(timeout=10)
        process.stdout.close()


def _signed_in(personas: Personas) -> tuple[str, str]:
    """A front-desk officer's cookies and CSRF token, as a browser holds them."""
    client = Client()
    client.force_login(personas.front_desk)
    client.get("/")
    cookies = "; ".join(f"{key}={morsel.value}" for key, morsel in client.cookies.items())
    token = client.cookies["csrftoken"].value
    connection.close()
    return cookies, token


def _post(path: str, cookies: str, *, length: int | None, body: bytes) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookies}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


def test_a_body_declared_over_the_servers_hard_stop_is_refused_with_413_before_it_is_read(
    served: Served,
) -> None:
    too_large = settings.SERVER_BODY_MAX_BYTES + 1
    answer = served.send(
        f"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {too_large}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\nusername=a".encode()
    )
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_body_over_the_limit_gets_the_413_page_in_words_over_http(
    served: Served, personas: Personas
) -> None:
    cookies, token = _signed_in(personas)
    limit = settings.REQUEST_BODY_MAX_BYTES
    assert limit < settings.SERVER_BODY_MAX_BYTES  # read whole by waitress, answered by Django
    form = f"csrfmiddlewaretoken={token}&title=".encode()
    body = form + b"x" * (limit + 1 - len(form))
    answer = served.send(_post("/documents/", cookies, length=len(body), body=body), whole=True)
    head, _, page = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), head
    assert b"text/html" in head
    words = page.decode()
    assert "This upload is too large" in words
    assert f"The most Frontdesk accepts at once is {limit // 1024 // 1024} MB." in words
    assert "Nothing was saved" in words


def test_a_form_reaches_django_whole_sized_or_in_chunks_and_never_half_sent(
    served: Served, personas: Personas
) -> None:
    cookies, token = _signed_in(personas)
    ping = "/accounts/session/ping/"
    form = f"csrfmiddlewaretoken={token}&keep=yes".encode()
    sized = served.send(_post(ping, cookies, length=len(form), body=form))
    assert sized.startswith(b"HTTP/1.1 204 ")
    chunked = (
        b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (form[:10], form[10:]))
        + b"0\r\n\r\n"
    )
    # Without the length Django would read no token and answer 403.
    assert served.send(_post(ping, cookies, length=None, body=chunked)).startswith(b"HTTP/1.1 204 ")
    # A browser that leaves half-way through its form: the token arrived, the rest never did.
    served.send(_post(ping, cookies, length=len(form) + 500, body=form), close_early=True)
    assert served.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").startswith(
        b"HTTP/1.1 200 "
    )
    # The health check asked for after the half form was left (the first was the start-up's):
    # once its line is written, the half form's would have been, had it reached Django.
    lines = served.logged("GET /healthz ", times=2)
    reached = [line for line in lines if f"POST {ping}" in line]
    assert len(reached) == 2, reached  # the sized and the chunked form; never the half one


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


def _serve(tmp_path: Path, *options: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {
        **os.environ,
        "FRONTDESK_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "FRONTDESK_DEMO": "true",
        "REDIS_URL": "",
    }
    process = subprocess.Popen(  # noqa: S603 - this interpreter and a fixed command
        [
            sys.executable,
            "-m",
            "frontdesk.serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *options,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _answered(port, process)
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
        assert any("frontdesk.wsgi" in c for c in children.values())
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


def test_make_runs_entry_point_can_run_a_server_process_per_core_on_one_port(
    tmp_path: Path,
) -> None:
    process, port = _serve(tmp_path, "--processes", "2")
    try:
        children = _children_of(process.pid)
        servers = [c for c in children.values() if "frontdesk.wsgi" in c]
        assert len(children) == 3 and len(servers) == 2
        assert all("--reuse-port" in c for c in servers)
        for _ in range(4):  # new connections, spread by the kernel over both
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                assert answer.read() == b"ok"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        assert not [pid for pid in children if _alive(pid)], "a child was left running"
    finally:
        _stop(process)
