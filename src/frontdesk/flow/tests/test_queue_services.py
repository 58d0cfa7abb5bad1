from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import live, services
from frontdesk.flow.models import (
    FlowStatus,
    PatientConsent,
    Priority,
    QueueEntry,
    QueueEvent,
)
from frontdesk.flow.services import FlowRefusedError
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.scheduling.models import AppointmentHistory, AppointmentStatus

pytestmark = pytest.mark.usefixtures("frozen")


def check_in(personas: Personas, appointment: object, **extra: object) -> QueueEntry:
    return services.appointment_check_in(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=appointment,  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


def move(entry: QueueEntry, to: FlowStatus, **extra: object) -> QueueEntry:
    return services.queue_entry_move(
        context=SYSTEM_CONTEXT,
        user=None,
        entry=entry,
        to=to,
        **extra,  # type: ignore[arg-type]
    )


def test_check_in_marks_the_appointment_checked_in_and_issues_a_ticket(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    before = live.flow_version(personas.clinic.pk)

    entry = check_in(personas, appointment)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    history = AppointmentHistory.objects.get(appointment=appointment, to_status="checked-in")
    assert history.from_status == "booked" and history.by == personas.front_desk
    assert entry.ticket == "A-001" and entry.status == FlowStatus.WAITING
    assert entry.day == dt.date(2026, 11, 23)
    assert entry.queue.provider == appointment.provider
    assert list(QueueEvent.objects.values_list("from_status", "to_status")) == [("", "waiting")]
    assert AuditEvent.objects.filter(object_type="queue_entry", object_id=str(entry.pk)).exists()
    assert live.flow_version(personas.clinic.pk) == before + 1


def test_tickets_count_up_per_queue_and_start_again_the_next_day(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    tickets = [check_in(personas, make_appointment()).ticket for _ in range(3)]
    walk_in = services.walk_in_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, patient=make_patient(personas.clinic)
    )
    assert tickets == ["A-001", "A-002", "A-003"]
    assert walk_in.ticket == "W-001"

    frozen.shift(dt.timedelta(days=1))
    assert check_in(personas, make_appointment()).ticket == "A-001"


def test_the_database_refuses_one_ticket_twice_on_one_day(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = check_in(personas, make_appointment())
    copy = QueueEntry.objects.get(pk=entry.pk)
    copy.pk = None
    copy.appointment = None
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save(force_insert=True)


def test_a_second_check_in_of_one_appointment_is_refused_in_plain_words(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    check_in(personas, appointment)
    with pytest.raises(FlowRefusedError, match=r"Already checked in at 10:00 with ticket A-001"):
        check_in(personas, appointment)
    assert QueueEntry.objects.count() == 1


def test_a_cancelled_appointment_cannot_be_checked_in(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment(status=AppointmentStatus.CANCELLED)
    with pytest.raises(FlowRefusedError, match="was cancelled; it cannot be checked in"):
        check_in(personas, appointment)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert not QueueEntry.objects.exists()


def test_an_appointment_of_another_day_cannot_be_checked_in_today(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    tomorrow = make_appointment(start=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(FlowRefusedError, match="not today"):
        check_in(personas, tomorrow)


def test_confirming_address_and_consent_at_check_in_is_recorded(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    check_in(personas, appointment, confirm_address=True, consent_signed=True)
    appointment.patient.refresh_from_db()
    assert appointment.patient.address_confirmed_on == dt.date(2026, 11, 23)
    consent = PatientConsent.objects.get(patient=appointment.patient)
    assert consent.signed_on == dt.date(2026, 11, 23) and consent.recorded_by == personas.front_desk


def test_a_patient_moves_through_the_legal_steps_with_a_timestamp_for_each(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    entry = check_in(personas, make_appointment())
    for step in (FlowStatus.CALLED, FlowStatus.IN_ROOM, FlowStatus.WITH_PROVIDER, FlowStatus.DONE):
        frozen.shift(dt.timedelta(minutes=5))
        entry = move(entry, step, room="Room 2" if step == FlowStatus.CALLED else None)
    assert entry.status == FlowStatus.DONE and entry.room == "Room 2"
    events = list(QueueEvent.objects.filter(entry=entry))
    assert [e.to_status for e in events] == [
        "waiting",
        "called",
        "in_room",
        "with_provider",
        "done",
    ]
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(events)]
    assert gaps == [300.0, 300.0, 300.0, 300.0]


def test_illegal_moves_are_refused_and_change_nothing(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = check_in(personas, make_appointment())
    with pytest.raises(FlowRefusedError, match="is waiting; it cannot be with provider now"):
        move(entry, FlowStatus.WITH_PROVIDER)
    entry.refresh_from_db()
    assert entry.status == FlowStatus.WAITING
    assert QueueEvent.objects.filter(entry=entry).count() == 1


def test_calling_a_patient_who_left_says_so(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = check_in(personas, make_appointment())
    move(entry, FlowStatus.LEFT)
    with pytest.raises(FlowRefusedError, match="left without being seen at 10:00"):
        move(entry, FlowStatus.CALLED)
    # Even from a board that still showed the patient waiting.
    with pytest.raises(FlowRefusedError, match="left without being seen"):
        move(entry, FlowStatus.CALLED, expected=FlowStatus.WAITING)


def test_an_officer_acting_on_a_stale_board_is_told_who_acted_first(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = check_in(personas, make_appointment())
    services.queue_entry_move(
        context=SYSTEM_CONTEXT, user=personas.nurse, entry=entry, to=FlowStatus.CALLED
    )
    with pytest.raises(FlowRefusedError, match="was just marked called by Nora; nothing"):
        move(entry, FlowStatus.CALLED, expected=FlowStatus.WAITING)
    assert QueueEvent.objects.filter(entry=entry, to_status="called").count() == 1


def test_call_next_takes_emergencies_first_then_arrival_order(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    first = check_in(personas, make_appointment())
    frozen.shift(dt.timedelta(minutes=1))
    second = check_in(personas, make_appointment())
    frozen.shift(dt.timedelta(minutes=1))
    emergency = check_in(
        personas,
        make_appointment(),
        priority=Priority.EMERGENCY,
        priority_reason="chest pain",
    )
    queue = first.queue
    called = [
        services.queue_call_next(context=SYSTEM_CONTEXT, user=None, queue=queue).pk
        for _ in range(3)
    ]
    assert called == [emergency.pk, first.pk, second.pk]
    with pytest.raises(FlowRefusedError, match="Nobody is waiting"):
        services.queue_call_next(context=SYSTEM_CONTEXT, user=None, queue=queue)


def test_an_emergency_needs_a_reason(personas: Personas, make_appointment: MakeAppointment) -> None:
    with pytest.raises(FlowRefusedError, match="Say why this patient is emergency"):
        check_in(personas, make_appointment(), priority=Priority.EMERGENCY)


def test_what_the_patient_was_told_is_kept_with_the_entry(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = check_in(personas, make_appointment())
    services.queue_entry_tell_wait(
        context=SYSTEM_CONTEXT, user=personas.front_desk, entry=entry, minutes=25
    )
    entry.refresh_from_db()
    assert entry.told_wait_minutes == 25 and entry.told_at is not None
    with pytest.raises(FlowRefusedError, match="between 0 and 600"):
        services.queue_entry_tell_wait(
            context=SYSTEM_CONTEXT, user=personas.front_desk, entry=entry, minutes=-3
        )


def test_two_officers_calling_the_same_patient_at_once_never_both_succeed(
    transactional_audit: None, personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = check_in(personas, make_appointment())
    officers = 4
    barrier = threading.Barrier(officers)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            barrier.wait()
            move(entry, FlowStatus.CALLED, expected=FlowStatus.WAITING)
            outcomes.append("called")
        except FlowRefusedError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(officers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("called") == 1
    assert all("was just marked called" in o for o in outcomes if o != "called")
    assert QueueEvent.objects.filter(entry=entry, to_status="called").count() == 1


def test_two_desks_checking_in_at_once_get_different_tickets(
    transactional_audit: None, personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointments = [make_appointment() for _ in range(4)]
    barrier = threading.Barrier(len(appointments))
    errors: list[Exception] = []

    def attempt(appointment: object) -> None:
        try:
            barrier.wait()
            check_in(personas, appointment)
        except Exception as exc:  # the assertion below shows it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(a,)) for a in appointments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(QueueEntry.objects.values_list("ticket", flat=True)) == [
        "A-001",
        "A-002",
        "A-003",
        "A-004",
    ]


def test_an_appointment_checked_in_elsewhere_gets_a_ticket_once(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment(status=AppointmentStatus.CHECKED_IN)
    entry = check_in(personas, appointment)
    assert entry.ticket == "A-001"
    assert not AppointmentHistory.objects.filter(appointment=appointment).exists()
    with pytest.raises(FlowRefusedError, match="Already checked in"):
        check_in(personas, appointment)
    fulfilled = make_appointment(status=AppointmentStatus.FULFILLED)
    with pytest.raises(FlowRefusedError, match="is fulfilled; it cannot be checked in"):
        check_in(personas, fulfilled)
