"""Live updates of the flow board, also across server processes.

Every change to a clinic's flow raises its `FlowVersion` in the same transaction and tells
listeners once it commits, through the channel every live page shares (lib/live.py: Redis
pub/sub, PostgreSQL NOTIFY, or polling the version row on SQLite alone). The board's event
stream (views.board_events_view) follows `flow_changes`; the page falls back to polling the
board with the version it shows. A change of the flow is also a change of the desk queue (a
patient waiting past the red threshold is desk work), so it raises the desk's version too.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from django.db.models import F

from frontdesk.desk.live import desk_changed
from frontdesk.flow.models import FlowVersion
from frontdesk.lib import live as channel
from frontdesk.lib.live import BlockingStream, live_backend, stream_open, streams_open

__all__ = [
    "BlockingStream",
    "flow_changed",
    "flow_changes",
    "flow_version",
    "live_backend",
    "stream_open",
    "streams_open",
]

TOPIC = "flow"
CHANNEL = channel.live_channel(TOPIC)
# Read at each call, so a test (or a setting) can change them here.
POLL_SECONDS = channel.POLL_SECONDS
HEARTBEAT_SECONDS = channel.HEARTBEAT_SECONDS


def flow_version(clinic_id: int) -> int:
    return (
        FlowVersion.objects.filter(clinic_id=clinic_id).values_list("version", flat=True).first()
        or 0
    )


def flow_changed(clinic_id: int) -> int:
    """Raise the clinic's flow version; call inside the transaction that made the change."""
    # The desk's counter first: desk_changed takes its locks in the one order every change
    # uses (desk/live.py), so the two counters never wait on each other in a circle.
    desk_changed(clinic_id)
    if not FlowVersion.objects.filter(clinic_id=clinic_id).update(version=F("version") + 1):
        FlowVersion.objects.bulk_create(
            [FlowVersion(clinic_id=clinic_id, version=0)], ignore_conflicts=True
        )
        FlowVersion.objects.filter(clinic_id=clinic_id).update(version=F("version") + 1)
    version = flow_version(clinic_id)
    channel.live_notify(TOPIC, clinic_id, version)
    return version


def flow_changes(clinic_id: int, *, since: int) -> AsyncGenerator[int | None, None]:
    """Yield each newer flow version of the clinic as it commits, or None as a heartbeat when
    nothing happened for HEARTBEAT_SECONDS. Never yields `since` or older."""
    return channel.live_changes(
        TOPIC,
        clinic_id,
        since=since,
        read_version=flow_version,
        heartbeat=HEARTBEAT_SECONDS,
        poll=POLL_SECONDS,
    )
