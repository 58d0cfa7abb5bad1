"""Live updates of the flow board, also across server processes.

Every change to a clinic's flow raises its `FlowVersion` in the same transaction and tells
listeners once it commits: through Redis pub/sub when REDIS_URL is set, else through
PostgreSQL NOTIFY (delivered at commit, never for a rolled-back change), else (SQLite alone)
listeners poll the version row. The board's event stream (views.board_events_view) follows
`flow_changes`; the page falls back to polling the board with the version it shows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from frontdesk.flow.models import FlowVersion

CHANNEL = "frontdesk_flow"
# How often a stream without a push channel looks at the version row, and how long a stream
# stays quiet before it sends a keep-alive comment (which also notices a closed browser tab).
POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0


def live_backend() -> str:
    if settings.REDIS_URL:
        return "redis"
    if connection.vendor == "postgresql":
        return "postgresql"
    return "poll"


def flow_version(clinic_id: int) -> int:
    return (
        FlowVersion.objects.filter(clinic_id=clinic_id).values_list("version", flat=True).first()
        or 0
    )


def flow_changed(clinic_id: int) -> int:
    """Raise the clinic's flow version; call inside the transaction that made the change."""
    if not FlowVersion.objects.filter(clinic_id=clinic_id).update(version=F("version") + 1):
        FlowVersion.objects.bulk_create(
            [FlowVersion(clinic_id=clinic_id, version=0)], ignore_conflicts=True
        )
        FlowVersion.objects.filter(clinic_id=clinic_id).update(version=F("version") + 1)
    version = flow_version(clinic_id)
    backend = live_backend()
    if backend == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, f"{clinic_id}:{version}"])
    elif backend == "redis":
        transaction.on_commit(lambda: _redis_publish(clinic_id, version))
    return version


def _redis_channel(clinic_id: int) -> str:
    return f"{CHANNEL}:{clinic_id}"


def _redis_publish(clinic_id: int, version: int) -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.publish(_redis_channel(clinic_id), str(version))
    except redis.RedisError:
        pass  # boards catch up on their next poll or reconnect; the change itself is saved
    finally:
        client.close()


async def flow_changes(clinic_id: int, *, since: int) -> AsyncGenerator[int | None, None]:
    """Yield each newer flow version of the clinic as it commits, or None as a heartbeat when
    nothing happened for HEARTBEAT_SECONDS. Never yields `since` or older."""
    backend = await sync_to_async(live_backend)()
    if backend == "redis":
        source = _redis_changes(clinic_id)
    elif backend == "postgresql":
        source = _postgres_changes(clinic_id)
    else:
        source = _polled_changes(clinic_id)
    last = since
    async for version in source:
        if version is None:
            yield None
        elif version > last:
            last = version
            yield version


def _read_and_release(clinic_id: int) -> int:
    # Runs in a worker thread of its own: its connection is closed (or given back to the pool)
    # at once instead of lingering with the thread.
    try:
        return flow_version(clinic_id)
    finally:
        connection.close()


async def _current(clinic_id: int) -> int:
    return await sync_to_async(_read_and_release, thread_sensitive=False)(clinic_id)


async def _polled_changes(clinic_id: int) -> AsyncIterator[int | None]:
    quiet = 0.0
    last = -1
    while True:
        version = await _current(clinic_id)
        if version != last:
            last = version
            quiet = 0.0
            yield version
        elif quiet >= HEARTBEAT_SECONDS:
            quiet = 0.0
            yield None
        await asyncio.sleep(POLL_SECONDS)
        quiet += POLL_SECONDS


def _conninfo() -> dict[str, Any]:
    db = connection.settings_dict
    info: dict[str, Any] = {"dbname": db["NAME"], "user": db.get("USER") or None}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("PASSWORD", "password")):
        if db.get(key):
            info[name] = db[key]
    return {k: v for k, v in info.items() if v is not None}


async def _postgres_changes(clinic_id: int) -> AsyncIterator[int | None]:
    import psycopg

    info = await sync_to_async(_conninfo)()
    conn = await psycopg.AsyncConnection.connect(autocommit=True, **info)
    try:
        await conn.execute(f"LISTEN {CHANNEL}")
        # Listening now: a change committed before this point is caught by reading the row.
        yield await _current(clinic_id)
        prefix = f"{clinic_id}:"
        while True:
            got = False
            async for notice in conn.notifies(timeout=HEARTBEAT_SECONDS):
                if notice.payload.startswith(prefix):
                    got = True
                    yield int(notice.payload[len(prefix) :])
            if not got:
                yield None
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


async def _redis_changes(clinic_id: int) -> AsyncIterator[int | None]:
    import redis.asyncio as aredis

    client = aredis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(_redis_channel(clinic_id))
        yield await _current(clinic_id)
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        while True:
            # None also comes back for the subscription's own confirmation: not yet quiet.
            message = await pubsub.get_message(timeout=HEARTBEAT_SECONDS)
            if message is not None and message.get("type") == "message":
                quiet_since = loop.time()
                yield int(message["data"])
            elif loop.time() - quiet_since >= HEARTBEAT_SECONDS:
                quiet_since = loop.time()
                yield None
    finally:
        with contextlib.suppress(Exception):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()
