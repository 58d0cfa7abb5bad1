"""The desk queue's one order, and why each row stands where it does, in words.

The score orders by impact on care. It is a ranking in four steps, each deciding only between
rows the step before left equal:

1. A clinical red flag first ("Red flag: chest pain"): a question a clinician must see now.
2. Then a patient physically waiting (at the desk or in the waiting room): someone is in front
   of us, and every minute shows.
3. Then the deadline: the most overdue first, then the nearest; work with no deadline comes
   after all work with one.
4. Then age: the oldest first.

Rows still equal keep one fixed order (kind, then the source's ref), so the page never shuffles
between two loads. The same rules are `ORDER_SQL` (the database orders the union by it, so only
the page's rows leave it) and `score_key` (the same order for rows in hand).

Each row is explained in words by `reason_words`: the red flag, the deadline ("Due in 12 min",
"Overdue by 2 h") or the age when there is none ("Open for 3 days"), and the waiting patient
("patient waiting at the desk"), joined by " · ".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The SQL of the order, over a row set `u` holding the columns of sources.ROW_FIELDS and kind.
ORDER_SQL = (
    "u.red_flag DESC, u.patient_waiting DESC, (u.due IS NULL) ASC, u.due ASC, u.since ASC, "
    "u.kind ASC, u.ref ASC"
)
# The same order within one source's rows (one kind), for the top-N of each source the union
# is cut from: "no deadline last" written as NULLS LAST, so a source kept in deadline order
# (an index on its due time) is read in that order and only as far as the page needs.
BRANCH_ORDER_SQL = (
    "u.red_flag DESC, u.patient_waiting DESC, u.due ASC NULLS LAST, u.since ASC, u.ref ASC"
)

# No deadline sorts after every deadline.
_NO_DUE = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ScoreFacts:
    """What the score reads of one row."""

    kind: str
    ref: int
    due: dt.datetime | None
    since: dt.datetime
    red_flag: bool
    patient_waiting: bool


def score_key(row: ScoreFacts) -> tuple[bool, bool, bool, dt.datetime, dt.datetime, str, int]:
    """Sort key of the documented order: sorting rows by it puts the first row first."""
    return (
        not row.red_flag,
        not row.patient_waiting,
        row.due is None,
        row.due or _NO_DUE,
        row.since,
        row.kind,
        row.ref,
    )


def span_words(span: dt.timedelta) -> str:
    """A length of time as the desk says it: "12 min", "2 h", "2 h 30 min", "3 days"."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        if hours < 10 and rest >= 5:
            return f"{hours} h {rest} min"
        return f"{hours} h"
    days = hours // 24
    return f"{days} days"


def due_words(due: dt.datetime | None, since: dt.datetime, now: dt.datetime) -> str:
    """The deadline in words ("Due in 12 min", "Overdue by 2 h"), or the age without one."""
    if due is None:
        return f"Open for {span_words(now - since)}"
    if due < now:
        return f"Overdue by {span_words(now - due)}"
    return f"Due in {span_words(due - now)}"


def reason_words(row: ScoreFacts, *, now: dt.datetime, flag: str = "", waiting: str = "") -> str:
    """Why the row stands where it does. `flag` names the red flag ("chest pain"); `waiting`
    says where the patient waits ("at the desk"); both come from the row's source."""
    parts = []
    if row.red_flag:
        parts.append(f"Red flag: {flag}" if flag else "Red flag")
    parts.append(due_words(row.due, row.since, now))
    if row.patient_waiting:
        parts.append(f"patient waiting {waiting}" if waiting else "patient waiting")
    return " · ".join(parts)
