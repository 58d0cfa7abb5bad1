"""Live updates across server processes, for any page that follows a clinic's counter.

A topic ("flow" for the board, "desk" for the desk queue) keeps a version per clinic, raised in
the same transaction as every change it follows. `live_notify` tells listeners once that
transaction commits: through Redis pub/sub when REDIS_URL is set, else through PostgreSQL
NOTIFY (delivered at commit, never for a rolled-back change), else (SQLite alone) listeners
poll the version. `live_changes` is what an event stream follows. The version itself is the
topic's own (flow/live.py, desk/live.py): this module only carries it.

The server (waitress, `frontdesk/wsgi.py`) answers each request in one of its threads until
the response ends, so an open stream holds a thread: `stream_open` runs a stream's asynchronous
steps on an event loop of the stream's own in that thread, and opens at most `FLOW_STREAMS` at
once per process (the server has that many threads beside the pages'); a page refused one polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction

# How often a stream without a push channel looks at the version, and how long a stream stays
# quiet before it sends a keep-alive comment (which also notices a closed browser tab).
POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0

ReadVersion = Callable[[int], int]


def live_backend() -> str:
    if settings.REDIS_URL:
        return "redis"
    if connection.vendor == "postgresql":
        return "postgresql"
    return "poll"


def live_channel(topic: str) -> str:
    """The PostgreSQL channel of a topic (an identifier: letters and underscores only)."""
    if not topic.isidentifier():
        raise ValueError(f"not a topic name: {topic!r}")
    return f"frontdesk_{topic}"


def live_notify(topic: str, clinic_id: int, version: int) -> None:
    """Tell listeners of `topic` that the clinic is at `version`, once the caller's
    transaction commits (call it inside that transaction, after raising the version)."""
    backend = live_backend()
    if backend == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_notify(%s, %s)", [live_channel(topic), f"{clinic_id}:{version}"]
            )
    elif backend == "redis":
        transaction.on_commit(lambda: _redis_publish(topic, clinic_id, version))


def _redis_channel(topic: str, clinic_id: int) -> str:
    return f"{live_channel(topic)}:{clinic_id}"


def _redis_publish(topic: str, clinic_id: int, version: int) -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.publish(_redis_channel(topic, clinic_id), str(version))
    except redis.RedisError:
        pass  # pages catch up on their next poll or reconnect; the change itself is saved
    finally:
        client.close()


async def live_changes(
    topic: str,
    clinic_id: int,
    *,
    since: int,
    read_version: ReadVersion,
    heartbeat: float = HEARTBEAT_SECONDS,
    poll: float = POLL_SECONDS,
) -> AsyncGenerator[int | None, None]:
    """Yield each newer version of the clinic's `topic` as it commits, or None as a heartbeat
    when nothing happened for `heartbeat` seconds. Never yields `since` or older."""
    backend = await sync_to_async(live_backend)()
    current = _reader(read_version)
    if backend == "redis":
        source = _redis_changes(topic, clinic_id, current, heartbeat)
    elif backend == "postgresql":
        source = _postgres_changes(topic, clinic_id, current, heartbeat)
    else:
        source = _polled_changes(clinic_id, current, heartbeat, poll)
    last = since
    async for version in source:
        if version is None:
            yield None
        elif version > last:
            last = version
            yield version


Current = Callable[[int], Any]


def _reader(read_version: ReadVersion) -> Current:
    def read_and_release(clinic_id: int) -> int:
        # Runs in a worker thread of its own: its connection is closed (or given back to the
        # pool) at once instead of lingering with the thread.
        try:
            return read_version(clinic_id)
        finally:
            connection.close()

    async def current(clinic_id: int) -> int:
        return await sync_to_async(read_and_release, thread_sensitive=False)(clinic_id)

    return current


async def _polled_changes(
    clinic_id: int, current: Current, heartbeat: float, poll: float
) -> AsyncIterator[int | None]:
    quiet = 0.0
    last = -1
    while True:
        version = await current(clinic_id)
        if version != last:
            last = version
            quiet = 0.0
            yield version
        elif quiet >= heartbeat:
            quiet = 0.0
            yield None
        await asyncio.sleep(poll)
        quiet += poll


def _conninfo() -> dict[str, Any]:
    db = connection.settings_dict
    info: dict[str, Any] = {"dbname": db["NAME"], "user": db.get("USER") or None}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("PASSWORD", "password")):
        if db.get(key):
            info[name] = db[key]
    return {k: v for k, v in info.items() if v is not None}


async def _postgres_changes(
    topic: str, clinic_id: int, current: Current, heartbeat: float
) -> AsyncIterator[int | None]:
    import psycopg

    info = await sync_to_async(_conninfo)()
    conn = await psycopg.AsyncConnection.connect(autocommit=True, **info)
    try:
        await conn.execute(f"LISTEN {live_channel(topic)}")
        # Listening now: a change committed before this point is caught by reading the row.
        yield await current(clinic_id)
        prefix = f"{clinic_id}:"
        while True:
            got = False
            async for notice in conn.notifies(timeout=heartbeat):
                if notice.payload.startswith(prefix):
                    got = True
                    yield int(notice.payload[len(prefix) :])
            if not got:
                yield None
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


async def _redis_changes(
    topic: str, clinic_id: int, current: Current, heartbeat: float
) -> AsyncIterator[int | None]:
    import redis.asyncio as aredis

    client = aredis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(_redis_channel(topic, clinic_id))
        yield await current(clinic_id)
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        while True:
            # None also comes back for the subscription's own confirmation: not yet quiet.
            message = await pubsub.get_message(timeout=heartbeat)
            if message is not None and message.get("type") == "message":
                quiet_since = loop.time()
                yield int(message["data"])
            elif loop.time() - quiet_since >= heartbeat:
                quiet_since = loop.time()
                yield None
    finally:
        with contextlib.suppress(Exception):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()


_streams_lock = threading.Lock()
_streams_open = 0


def _place_take() -> bool:
    global _streams_open
    with _streams_lock:
        if _streams_open >= settings.FLOW_STREAMS:
            return False
        _streams_open += 1
        return True


def _place_give_back() -> None:
    global _streams_open
    with _streams_lock:
        _streams_open -= 1


class BlockingStream:
    """An asynchronous stream of text sent from a WSGI server's thread, each step run on an
    event loop of this stream's own. It takes its place among `FLOW_STREAMS` (every live page's
    streams) at its first step (a response never sent takes none; the request's database
    connection is given back then) and ends at once when none is left; `close` (which the
    server calls when the browser has gone, or at its stop) ends it and gives its place back."""

    def __init__(self, source: AsyncGenerator[str, None]) -> None:
        self._source = source
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ended = False

    def __iter__(self) -> BlockingStream:
        return self

    def __next__(self) -> str:
        if self._ended:
            raise StopIteration
        if self._loop is None:
            if not _place_take():
                self._ended = True
                raise StopIteration
            # The stream lasts as long as its page is shown: the request's database connection
            # goes back to the pool now, not when the stream ends, or a few open pages would
            # hold them all (the stream reads with connections of its own, given back at once).
            connection.close()
            self._loop = asyncio.new_event_loop()
        try:
            return self._loop.run_until_complete(anext(self._source))
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        loop, self._loop = self._loop, None
        self._ended = True
        if loop is None:
            return
        try:
            loop.run_until_complete(self._source.aclose())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
            _place_give_back()


def stream_open(source: AsyncGenerator[str, None]) -> BlockingStream | None:
    """`source` as a stream a server thread can send, or None when `FLOW_STREAMS` streams are
    open already in this process (the page then polls)."""
    if streams_open() >= settings.FLOW_STREAMS:
        return None
    return BlockingStream(source)


def streams_open() -> int:
    """Event streams sending now in this process."""
    return _streams_open
