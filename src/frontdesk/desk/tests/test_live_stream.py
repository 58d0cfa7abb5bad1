"""The desk queue's live updates: a committed change to desk work reaches an open event stream
through the channel the flow board uses too (lib/live.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.http import StreamingHttpResponse
from django.test import RequestFactory

from conftest import Personas
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.desk import live, services, views
from frontdesk.desk.live import desk_version
from frontdesk.desk.tests.conftest import MakeAppointment
from frontdesk.flow import live as flow_live
from frontdesk.lib.live import streams_open
from frontdesk.scheduling.models import Appointment


def _claim(
    personas: Personas, appointment: Appointment, *, after: threading.Event | None = None
) -> None:
    if after is not None:
        assert after.wait(timeout=30), "the stream never started listening"
    try:
        services.desk_item_claim(
            context=SYSTEM_CONTEXT, user=personas.front_desk, kind="unconfirmed", ref=appointment.pk
        )
    finally:
        connection.close()


@pytest.mark.parametrize("channel", ["database", "redis"])
def test_the_desk_event_stream_sends_a_desk_event_for_each_committed_change(
    channel: str,
    transactional_audit: None,
    personas: Personas,
    make_appointment: MakeAppointment,
    settings: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:6379/15" if channel == "redis" else ""  # type: ignore[attr-defined]
    appointment = make_appointment()
    since = desk_version(personas.clinic.pk)
    # The stream reads the version once it listens (subscribed, LISTENing or polling): only
    # then may the change commit, so that it reaches the stream as a notice, not by that read.
    listening = threading.Event()

    def version_read(clinic_id: int) -> int:
        version = desk_version(clinic_id)
        listening.set()
        return version

    monkeypatch.setattr(live, "desk_version", version_read)
    request = RequestFactory().get(f"/desk/events/?since={since}")
    request.user = personas.front_desk
    response = views.queue_events_view(request)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/event-stream"
    connection.close()
    # As the server sends it: each step in this thread, then close() when the browser goes.
    chunks = iter(response.streaming_content)  # type: ignore[arg-type]
    try:
        first = next(chunks)
        assert connection.connection is None  # the open stream holds no database connection
        assert streams_open() == 1
        with ThreadPoolExecutor(1) as other:
            claimed = other.submit(_claim, personas, appointment, after=listening)
            second = next(chunks)  # listens, and waits for the change
            claimed.result()
    finally:
        response.close()
    assert streams_open() == 0
    assert bytes(first).decode() == "retry: 1000\n\n"
    assert bytes(second).decode() == f'event: desk\ndata: {{"version": {since + 1}}}\n\n'


def test_a_flow_change_is_also_a_change_of_the_desk_queue(personas: Personas) -> None:
    before_desk = desk_version(personas.clinic.pk)
    with transaction.atomic():
        flow_live.flow_changed(personas.clinic.pk)
    assert desk_version(personas.clinic.pk) == before_desk + 1
    assert flow_live.flow_version(personas.clinic.pk) == 1
