"""The WSGI entry point, and the server that serves it: `python -m frontdesk.wsgi` runs waitress
(what `make run` and the HTTP benches start).

Why waitress: it reads a request's whole body before it hands the request to one of its
threads, so a slow upload holds no thread and a request whose client leaves before its body is
complete never reaches a view (no form is acted on with half its fields); it refuses a body
over `SERVER_BODY_MAX_BYTES` with its own 413 before reading it, and gives a body sent in chunks
the length Django needs to read it. A body over `REQUEST_BODY_MAX_BYTES` (below that hard stop)
reaches Django, whose `BodyTooLargeMiddleware` answers 413 with a page in words. Pages are
answered by a fixed pool of threads: `SERVER_THREADS` for pages, plus `FLOW_STREAMS` for the
flow board's event streams, each of which holds a thread for as long as its board is open (the
view answers 204 and the board polls once all of those are open, `flow/live.py`), so boards
never take a thread from a page.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
from collections.abc import Sequence
from typing import Any

import waitress
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontdesk.settings")
application = get_wsgi_application()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m frontdesk.wsgi", description="Serve Frontdesk with waitress."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="share the port with other server processes started so (SO_REUSEPORT: the kernel "
        "spreads connections over them); `python -m frontdesk.serve --processes N` does this",
    )
    options = parser.parse_args(argv)
    where: dict[str, Any] = {"host": options.host, "port": options.port}
    if options.reuse_port:
        where = {"sockets": [socket.create_server((options.host, options.port), reuse_port=True)]}
    # What the server loaded to start (Django, the apps, the URL patterns) lives as long as the
    # process: kept out of the collector's full passes, which otherwise walk all of it in the
    # middle of a page (about 0.1 s once in every hundred or so desk pages, measured).
    gc.freeze()
    waitress.serve(
        application,
        **where,
        threads=settings.SERVER_THREADS + settings.FLOW_STREAMS,
        max_request_body_size=settings.SERVER_BODY_MAX_BYTES,
        # The client's address from X-Forwarded-For, only when the proxy at this address sent
        # it (docs/operations.md). X-Forwarded-Proto reaches Django as sent: Django trusts it
        # only with BEHIND_HTTPS_PROXY.
        trusted_proxy=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        trusted_proxy_headers="x-forwarded-for",
        clear_untrusted_proxy_headers=False,
        ident="Frontdesk",
    )


if __name__ == "__main__":
    main()
