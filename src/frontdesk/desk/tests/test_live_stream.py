"""The desk queue's live updates: a committed change to desk work reaches an open event stream
through the channel the flow board uses too (lib/live.py)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, transaction
from django.http import StreamingHttpResponse
from django.test import AsyncRequestFactory

from conftest import Personas
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.desk import services, views
from frontdesk.desk.live import desk_version
from frontdesk.desk.tests.conftest import MakeAppointment
from frontdesk.flow import live as flow_live
from frontdesk.scheduling.models import Appointment


def _claim(personas: Personas, appointment: Appointment) -> None:
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
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:6379/15" if channel == "redis" else ""  # type: ignore[attr-defined]
    appointment = make_appointment()
    since = desk_version(personas.clinic.pk)
    request = AsyncRequestFactory().get(f"/desk/events/?since={since}")
    request.user = personas.front_desk
    response = views.queue_events_view(request)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/event-stream"
    assert connection.connection is None  # the stream holds no database connection

    async def watch() -> list[str]:
        chunks = aiter(response.streaming_content)  # type: ignore[arg-type]
        try:
            seen = [await anext(chunks)]
            # Let the stream start listening before the change commits.
            await asyncio.sleep(0.5)
            await sync_to_async(_claim, thread_sensitive=False)(personas, appointment)
            seen.append(await asyncio.wait_for(anext(chunks), timeout=5))
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
        return [bytes(chunk).decode() for chunk in seen]

    first, second = asyncio.run(watch())
    assert first == "retry: 1000\n\n"
    assert second == f'event: desk\ndata: {{"version": {since + 1}}}\n\n'


def test_a_flow_change_is_also_a_change_of_the_desk_queue(personas: Personas) -> None:
    before_desk = desk_version(personas.clinic.pk)
    with transaction.atomic():
        flow_live.flow_changed(personas.clinic.pk)
    assert desk_version(personas.clinic.pk) == before_desk + 1
    assert flow_live.flow_version(personas.clinic.pk) == 1
