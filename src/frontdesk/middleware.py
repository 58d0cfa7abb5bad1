"""Faults at the door and in the database, turned into pages in words instead of server errors.

`BodyTooLargeMiddleware` answers a request whose body is over `REQUEST_BODY_MAX_BYTES` with a
413 page in the officer's words, before anything reads the body. The length is the one the
server gives (waitress reads the whole body first, and gives a chunked one its length);
waitress's own limit, `SERVER_BODY_MAX_BYTES`, stays the hard stop above it.

`NulBytesMiddleware` strips NUL characters from every query, form and cookie value: PostgreSQL
refuses them in text, and many inputs reach a query without passing a Django form (whose
CharField already refuses them), so it is done once, here, before anything reads them.

`DatabaseBusyMiddleware` watches for the database going away or staying locked for a moment
(a restart, a failover, a terminated backend, SQLite's "database is locked" after
busy_timeout). `errors.server_error` turns those into a 503 page that says what happened to
the person's work; this middleware notes whether anything was written before the failure, so
that page tells the truth, and answers a GET once more on a fresh connection before giving up.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.loader import render_to_string

Handler = Callable[[HttpRequest], HttpResponse]

NUL = "\x00"
# Statements that change data. `WITH` is counted too: a CTE may hold an INSERT (the audit
# chain's single-statement insert on PostgreSQL does).
_WRITES = ("INSERT", "UPDATE", "DELETE", "WITH", "REPLACE", "COPY")
# Methods answered again once after a database fault: they change nothing the person asked
# for (a read may write its own audit event, which is then written for the answer they see).
RETRIED_METHODS = frozenset({"GET", "HEAD"})
BUSY_ATTRIBUTE = "frontdesk_database_busy"


def _without_nul(values: QueryDict) -> QueryDict | None:
    """A copy of `values` without NUL characters, or None when it has none."""
    if not any(NUL in key or any(NUL in v for v in vs) for key, vs in values.lists()):
        return None
    clean = QueryDict(mutable=True, encoding=values.encoding)
    for key, vs in values.lists():
        clean.setlist(key.replace(NUL, ""), [v.replace(NUL, "") for v in vs])
    clean._mutable = False
    return clean


class BodyTooLargeMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # not a number: Django reads no body from it either
        limit = settings.REQUEST_BODY_MAX_BYTES
        if length <= limit:
            return self.get_response(request)
        # No request context: its processors would read the session, and the body stays unread.
        page = render_to_string("413.html", {"most_mb": limit // (1024 * 1024)})
        return HttpResponse(page, status=413)


class NulBytesMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (query := _without_nul(request.GET)) is not None:
            request.GET = query  # type: ignore[assignment]  # immutable, as Django's own
        if request.method == "POST" and (form := _without_nul(request.POST)) is not None:
            request.POST = form  # type: ignore[assignment]  # immutable, as Django's own
        for name in [k for k, v in request.COOKIES.items() if NUL in k or NUL in v]:
            del request.COOKIES[name]  # a forged cookie: as if it had not been sent
        return self.get_response(request)


class WriteWatch:
    """An execute wrapper noting whether any statement that changes data ran to completion."""

    def __init__(self) -> None:
        self.wrote = False

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        result = execute(sql, params, many, context)
        if not self.wrote and sql.lstrip()[:7].upper().startswith(_WRITES):
            self.wrote = True
        return result


def database_busy_response(response: HttpResponse) -> bool:
    return bool(getattr(response, BUSY_ATTRIBUTE, False))


def _close_broken_connections() -> None:
    for connection in connections.all(initialized_only=True):
        # Inside a transaction (only a test's own) the connection is not ours to close.
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


class DatabaseBusyMiddleware:
    """Outside the session middleware, so a session that cannot be saved is caught too."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # One watch for both attempts: what the first wrote stays written.
        watch = WriteWatch()
        request.database_writes = watch  # type: ignore[attr-defined]  # read by server_error
        response = self._answer(request, watch)
        if database_busy_response(response) and request.method in RETRIED_METHODS:
            _close_broken_connections()
            response = self._answer(request, watch)
        if database_busy_response(response):
            _close_broken_connections()
        return response

    def _answer(self, request: HttpRequest, watch: WriteWatch) -> HttpResponse:
        with ExitStack() as watching:
            for connection in connections.all():
                watching.enter_context(connection.execute_wrapper(watch))
            return self.get_response(request)
