"""Set-up's refusals: `SetupRefusedError`, whose message says in plain words why a change
cannot be made, and the small pieces of wording they share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from frontdesk.lib.clinic_time import day_words


class SetupRefusedError(Exception):
    """The change cannot be made; the message says why in plain words."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def hh_mm(time: dt.time) -> str:
    return f"{time:%H:%M}"


def days_listed(days: Sequence[dt.date]) -> str:
    shown = ", ".join(day_words(d) for d in days[:5])
    return shown + (f" and {len(days) - 5} more" if len(days) > 5 else "")
