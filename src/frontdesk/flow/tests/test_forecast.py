from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from conftest import Personas
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import services
from frontdesk.flow.forecast import QueueForecast, clinic_forecasts
from frontdesk.flow.models import FlowStatus, QueueEntry
from frontdesk.flow.tests.conftest import MakeAppointment

pytestmark = pytest.mark.usefixtures("frozen")


def check_in(personas: Personas, make_appointment: MakeAppointment, **kw: object) -> QueueEntry:
    return services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=make_appointment(**kw)
    )


def move(entry: QueueEntry, *steps: FlowStatus) -> None:
    for step in steps:
        services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to=step)


def forecast(personas: Personas, entry: QueueEntry) -> QueueForecast:
    return clinic_forecasts(clinic_id=personas.clinic.pk, day=entry.day, now=timezone.now())[
        entry.queue_id
    ]


def test_each_patient_waits_for_the_visit_in_progress_and_everyone_ahead(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    now = timezone.now()
    in_room = check_in(personas, make_appointment, start=now - dt.timedelta(minutes=5))
    move(in_room, FlowStatus.CALLED, FlowStatus.IN_ROOM)
    frozen.shift(dt.timedelta(minutes=5))  # 15 of its 20 booked minutes are left
    early = [check_in(personas, make_appointment, start=now) for _ in range(2)]

    result = forecast(personas, in_room)
    assert result.pace == 1.0
    assert result.waits == {early[0].pk: 15, early[1].pk: 35}
    assert result.next_wait == 55


def test_a_patient_is_not_forecast_before_their_booked_time(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    early = check_in(personas, make_appointment, start=timezone.now() + dt.timedelta(minutes=40))
    assert forecast(personas, early).waits == {early.pk: 40}


def test_a_provider_running_slow_today_makes_the_forecast_longer(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    start = timezone.now()
    for _ in range(3):  # three 20-minute visits that took 40 minutes each
        entry = check_in(personas, make_appointment, start=start)
        move(entry, FlowStatus.CALLED, FlowStatus.IN_ROOM)
        frozen.shift(dt.timedelta(minutes=40))
        move(entry, FlowStatus.DONE)
    waiting = [check_in(personas, make_appointment, start=start) for _ in range(2)]

    result = forecast(personas, waiting[0])
    # (120 observed + 60 prior) / (60 booked + 60 prior) = 1.5
    assert result.pace == 1.5
    assert result.waits == {waiting[0].pk: 0, waiting[1].pk: 30}


def test_an_emergency_goes_first_with_no_wait_and_what_the_desk_told_is_kept(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    now = timezone.now()
    first = check_in(personas, make_appointment, start=now)
    second = check_in(personas, make_appointment, start=now)
    assert (first.told_wait_minutes, second.told_wait_minutes) == (0, 20)
    emergency = services.appointment_check_in(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=make_appointment(start=now),
        priority="emergency",  # type: ignore[arg-type]
        priority_reason="chest pain",
    )
    # A clinician comes now: never a wait, but the visit delays those behind it.
    assert emergency.told_wait_minutes is None and emergency.told_at is None
    assert forecast(personas, first).waits == {
        first.pk: 20,
        second.pk: 40,
    }
