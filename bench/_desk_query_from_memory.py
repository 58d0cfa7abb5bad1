"""The bench's ceiling for the desk queue page: the real server (`frontdesk.wsgi`, waitress) in
which the desk queue's one query is answered from memory after its first run, so that a page
costs everything but that query: the session and sign-in, the sources' words, the audit event,
the emergency banner, the template. Used only by bench/desk_queue.py, never by the product.

    python bench/_desk_query_from_memory.py --port N
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from frontdesk import wsgi
from frontdesk.desk import selectors

_run = selectors._fetch
_kept: dict[tuple[str, tuple[Any, ...]], list[tuple[Any, ...]]] = {}


def _remembered(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    # The same filter and page asks the same SQL with the same values, but for the moment.
    key = (sql, tuple(p for p in params if not isinstance(p, (dt.datetime, dt.date))))
    if key not in _kept:
        _kept[key] = _run(sql, params)
    return _kept[key]


selectors._fetch = _remembered

if __name__ == "__main__":
    wsgi.main(sys.argv[1:])
