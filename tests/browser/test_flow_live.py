"""The flow board served by a separate server process (waitress, as `make run` serves) follows
its event stream and shows a check-in committed by another process within a second: PostgreSQL
NOTIFY on PostgreSQL, the polled version row on SQLite alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from playwright.sync_api import Browser, expect

from conftest import Personas, login_client
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import services

from .conftest import TIMEOUT_MS
from .helpers import assert_accessible
from .test_flow import _nothing_outstanding

pytestmark = pytest.mark.browser

# The server in a process of its own, with the test settings (plain static files, test
# database), serving on a socket the test already listens on: a request made before the server
# is ready waits in the socket's backlog, so nothing polls or sleeps until start-up is over.
SERVER = (
    "import pytest, socket, sys, waitress; from django.conf import settings; "
    "from frontdesk.wsgi import application; "
    "waitress.serve(application, sockets=[socket.socket(fileno=int(sys.argv[1]))], "
    "threads=settings.SERVER_THREADS + settings.FLOW_STREAMS, _quiet=True)"
)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{db.get('USER') or 'postgres'}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def live_server_process(transactional_audit: None) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = int(listener.getsockname()[1])
    root = Path(settings.BASE_DIR)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "frontdesk.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": "",
        "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}",
    }
    server = subprocess.Popen(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", SERVER, str(listener.fileno())],
        env=env,
        cwd=root,
        pass_fds=[listener.fileno()],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # Answered once the server has started; until then the connection waits in the backlog.
        with urllib.request.urlopen(f"{url}/healthz", timeout=60) as ready:  # noqa: S310
            assert ready.status == 200
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        listener.close()


def test_a_board_on_another_server_process_shows_a_check_in_within_a_second(
    live_server_process: str, personas: Personas, browser: Browser
) -> None:
    appointment = _nothing_outstanding(personas)
    signed_in = login_client(Client(), personas.nurse)
    context = browser.new_context(base_url=live_server_process, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": signed_in.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server_process,
            }
        ]
    )
    board = context.new_page()
    try:
        board.goto("/flow/board/")
        expect(board.get_by_role("heading", level=1)).to_have_text("Flow board")
        # "Live" alone: the page follows the event stream, not the polling fallback.
        expect(board.locator("#live-state")).to_have_text("Live")
        assert_accessible(board)
        waiting = board.get_by_role("region", name="Waiting 0")
        expect(waiting).to_contain_text("Nobody.")

        services.appointment_check_in(
            context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=appointment
        )
        committed = time.monotonic()
        expect(board.get_by_role("region", name="Waiting 1")).to_contain_text("A-001", timeout=1000)
        assert time.monotonic() - committed < 1.0
    finally:
        context.close()
