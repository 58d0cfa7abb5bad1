from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from conftest import Personas
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import services
from frontdesk.flow.closing import flow_close_past_days
from frontdesk.flow.models import FlowStatus, QueueEntry
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.patients.models import SupervisorNotice
from frontdesk.scheduling.models import AppointmentStatus

pytestmark = pytest.mark.usefixtures("frozen")


def _day_with_leftovers(
    personas: Personas, make_appointment: MakeAppointment
) -> tuple[QueueEntry, QueueEntry, object]:
    seen = services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=make_appointment()
    )
    for step in (FlowStatus.CALLED, FlowStatus.IN_ROOM, FlowStatus.DONE):
        seen = services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=seen, to=step)
    still = services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=make_appointment()
    )
    never_came = make_appointment()
    return seen, still, never_came


def test_the_end_of_the_day_flags_who_is_still_waiting_and_marks_no_shows(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    seen, still, never_came = _day_with_leftovers(personas, make_appointment)
    frozen.shift(dt.timedelta(hours=10))  # 20:00, long after the visits ended

    out = io.StringIO()
    call_command("close-day", stdout=out)
    assert "2026-11-23: still in the queue: A-002; no-shows: 1" in out.getvalue()

    still.refresh_from_db()
    seen.refresh_from_db()
    assert still.open_at_close and not seen.open_at_close
    notice = SupervisorNotice.objects.get()
    assert notice.text.startswith("Still in the queue when Nov 23 closed: A-002.")
    never_came.refresh_from_db()  # type: ignore[attr-defined]
    assert never_came.status == AppointmentStatus.NOSHOW  # type: ignore[attr-defined]

    call_command("close-day", stdout=io.StringIO())  # again: nothing new
    assert SupervisorNotice.objects.count() == 1


def test_a_day_that_ended_is_closed_by_the_periodic_task(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    _day_with_leftovers(personas, make_appointment)
    assert flow_close_past_days(context=SYSTEM_CONTEXT, now=timezone.now()).flagged == []
    frozen.shift(dt.timedelta(days=1))
    assert flow_close_past_days(context=SYSTEM_CONTEXT, now=timezone.now()).flagged == ["A-002"]


def test_a_bad_date_is_refused_in_words() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"--date must look like 2026-11-23\."):
        call_command("close-day", "--date", "23/11/2026")
