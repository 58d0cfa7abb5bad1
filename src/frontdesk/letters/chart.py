"""The patient's correspondence on their chart (patients/chart.py): letters, messages and calls,
newest first, four queries, for roles that may see it; the chart's VIEW event covers them (the
whole timeline is its own page, with its own event)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.letters.selectors import Correspondence, correspondence_timeline
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import Patient


@dataclass(frozen=True)
class LettersPart:
    entries: list[Correspondence]
    may_see: bool
    can_write: bool


def chart_letters(*, user: User, patient: Patient, now: dt.datetime, today: dt.date) -> ChartPart:
    may_see = role_may(user.role, Action.CORRESPONDENCE_VIEW)
    part = LettersPart(
        entries=correspondence_timeline(patient) if may_see else [],
        may_see=may_see,
        can_write=role_may(user.role, Action.LETTER_ISSUE),
    )
    return ChartPart(context={"letters_part": part})


chart_part_register("letters", chart_letters)
