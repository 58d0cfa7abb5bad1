"""Live board updates across server processes: a change committed by another process reaches
an open event stream within a second (PostgreSQL NOTIFY, Redis pub/sub, or the polled version
row on SQLite alone)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import RequestFactory

from conftest import Personas
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import live, services, views
from frontdesk.flow.models import FlowStatus, QueueEntry
from frontdesk.flow.tests.conftest import MakeAppointment

# The other process: a second Frontdesk server calling a patient through the real service.
OTHER_PROCESS = """
import os, sys, time
import django
django.setup()
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import services
from frontdesk.flow.models import QueueEntry
entry = QueueEntry.objects.get(pk=int(sys.argv[1]))
services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to="called")
print(time.time(), flush=True)
"""


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{db.get('USER') or 'postgres'}@{host}:{port}/{db['NAME']}"


def _other_process(entry: QueueEntry, redis_url: str) -> subprocess.Popen[str]:
    root = Path(settings.BASE_DIR)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "frontdesk.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "DATABASE_POOL_SIZE": "0",
        "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}",
    }
    return subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", OTHER_PROCESS, str(entry.pk)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("channel", ["database", "redis"])
def test_a_change_made_in_another_process_reaches_an_open_event_stream_within_a_second(
    channel: str,
    transactional_audit: None,
    personas: Personas,
    make_appointment: MakeAppointment,
    settings: object,
) -> None:
    redis_url = "redis://127.0.0.1:6379/15" if channel == "redis" else ""
    settings.REDIS_URL = redis_url  # type: ignore[attr-defined]
    entry = services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=make_appointment()
    )
    since = live.flow_version(personas.clinic.pk)
    connection.close()  # the stream and the other process use their own connections

    async def listen() -> tuple[int, float]:
        # Asked from one version back, the stream first yields the current version, which
        # every source reads only once it is listening: the other process starts after that.
        stream = live.flow_changes(personas.clinic.pk, since=since - 1)
        try:
            assert await asyncio.wait_for(anext(stream), timeout=30) == since
            other = _other_process(entry, redis_url)
            version = await asyncio.wait_for(anext(stream), timeout=30)
            received = time.time()
            out, err = await asyncio.to_thread(other.communicate, timeout=30)
            assert other.returncode == 0, err
            assert version is not None
            return version, received - float(out.strip())
        finally:
            await stream.aclose()

    version, delay = asyncio.run(listen())
    assert version == since + 1
    assert delay < 1.0, f"the stream heard of the change {delay:.2f} s after it was committed"
    entry.refresh_from_db()
    assert entry.status == FlowStatus.CALLED


def test_the_stream_sends_a_heartbeat_when_nothing_happens(
    transactional_audit: None, personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.3)
    since = live.flow_version(personas.clinic.pk)
    connection.close()

    async def listen() -> list[int | None]:
        stream = live.flow_changes(personas.clinic.pk, since=since)
        try:
            return [await asyncio.wait_for(anext(stream), timeout=5)]
        finally:
            await stream.aclose()

    assert asyncio.run(listen()) == [None]


def test_the_boards_event_stream_sends_a_flow_event_for_each_committed_change(
    transactional_audit: None, personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=make_appointment()
    )
    since = live.flow_version(personas.clinic.pk)
    request = RequestFactory().get(f"/flow/board/events/?since={since}")
    request.user = personas.nurse
    response = views.board_events_view(request)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    connection.close()
    # As the server sends it: each step in this thread, then close() when the browser goes.
    chunks = iter(response.streaming_content)  # type: ignore[arg-type]
    try:
        first = next(chunks)
        assert live.streams_open() == 1
        with ThreadPoolExecutor(1) as other:
            other.submit(_call, entry).result()
        second = next(chunks)
    finally:
        response.close()
    assert live.streams_open() == 0
    assert bytes(first).decode() == "retry: 1000\n\n"
    assert bytes(second).decode() == f'event: flow\ndata: {{"version": {since + 1}}}\n\n'


def test_a_board_past_the_open_streams_limit_polls_instead(
    transactional_audit: None, personas: Personas, settings: Any
) -> None:
    settings.FLOW_STREAMS = 1

    def open_stream() -> StreamingHttpResponse | HttpResponseBase:
        request = RequestFactory().get("/flow/board/events/")
        request.user = personas.nurse
        return views.board_events_view(request)

    first = open_stream()
    raced = open_stream()  # offered before the first one sent anything
    assert isinstance(first, StreamingHttpResponse) and isinstance(raced, StreamingHttpResponse)
    try:
        assert next(iter(first.streaming_content)) == b"retry: 1000\n\n"  # type: ignore[arg-type]
        # Every stream place is taken: the next board is told to poll (204), and the one offered
        # meanwhile ends at its first step, so the board asks again and polls.
        assert open_stream().status_code == 204
        assert list(raced.streaming_content) == []  # type: ignore[arg-type]
    finally:
        first.close()
        raced.close()
    assert live.streams_open() == 0
    again = open_stream()
    assert isinstance(again, StreamingHttpResponse)
    again.close()


def _call(entry: QueueEntry) -> None:
    try:
        services.queue_entry_move(
            context=SYSTEM_CONTEXT, user=None, entry=entry, to=FlowStatus.CALLED
        )
    finally:
        connection.close()


def test_an_open_event_stream_holds_no_database_connection(
    transactional_audit: None, personas: Personas
) -> None:
    request = RequestFactory().get("/flow/board/events/")
    request.user = personas.nurse
    connection.ensure_connection()
    response = views.board_events_view(request)
    assert isinstance(response, StreamingHttpResponse)
    try:
        assert next(iter(response.streaming_content)) == b"retry: 1000\n\n"  # type: ignore[arg-type]
        assert connection.connection is None  # given back as the stream starts
    finally:
        response.close()
