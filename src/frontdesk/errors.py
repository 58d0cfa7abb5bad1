"""Error pages in the application's own layout and words."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views import defaults

from frontdesk.middleware import BUSY_ATTRIBUTE, WriteWatch

# Seconds a browser or proxy is told to wait before asking again.
RETRY_AFTER_SECONDS = 5


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if database_unavailable(exception):
        return database_busy(request)
    return defaults.bad_request(request, exception)  # type: ignore[arg-type]


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def database_unavailable(exc: BaseException | None) -> bool:
    """True for the database going away or staying locked: a closed or terminated connection,
    a server restarting or failing over, no pooled connection in time, SQLite's "database is
    locked". Programming errors (ProgrammingError) and refused data are not among them."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        # Followed through the context too: a session that cannot be saved is reported as
        # SessionInterrupted raised while handling the database's error.
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def database_busy(request: HttpRequest) -> HttpResponse:
    """503 in words. Whether anything was saved comes from DatabaseBusyMiddleware's watch; without
    it the page cannot know, and says so."""
    watch = getattr(request, "database_writes", None)
    nothing_saved = isinstance(watch, WriteWatch) and not watch.wrote
    context = {
        "nothing_saved": nothing_saved,
        "was_form": request.method == "POST",
        "resend": _resendable(request) if nothing_saved else None,
        "action": request.get_full_path(),
    }
    # No request context: its processors would ask the database that just failed.
    response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    setattr(response, BUSY_ATTRIBUTE, True)
    return response


def _resendable(request: HttpRequest) -> list[tuple[str, str]] | None:
    """What the form posted, to send again from the busy page (nothing typed is lost); None when
    it cannot be sent again as it was: files, or a password, which is never written into a page."""
    if request.method != "POST":
        return None
    try:
        if request.FILES:
            return None
        fields = [(name, value) for name, values in request.POST.lists() for value in values]
    except Exception:  # a body that cannot be read again: the page just says to go back
        return None
    if any("password" in name.lower() for name, _ in fields):
        return None
    return fields


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, so it is still the current one.
    if database_unavailable(sys.exc_info()[1]):
        return database_busy(request)
    # No request context: the failure may be in a context processor or the database.
    return HttpResponse(render_to_string("500.html"), status=500)
