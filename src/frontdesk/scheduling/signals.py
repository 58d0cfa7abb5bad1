"""Signals of the schedule, for the apps above it that act on a change once it has committed.

`appointment_time_freed` (schedule_id, start, end): a cancellation or a move freed that time; sent
from `transaction.on_commit`. The waitlist connects to it in `SchedulingConfig.ready()`, so that
`services` (which the waitlist books through) does not import the waitlist back.
"""

from __future__ import annotations

from django.dispatch import Signal

appointment_time_freed = Signal()
