"""A patient is in one queue at a time: a walk-in is refused while they still have an open
entry today (waiting, called, in a room or with a provider), and the database keeps one open
walk-in entry per patient and day even when two desks act at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from conftest import Personas, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import services
from frontdesk.flow.models import FlowStatus, Queue, QueueEntry
from frontdesk.flow.services import FlowRefusedError
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Schedule

pytestmark = pytest.mark.usefixtures("frozen")


def walk_in(personas: Personas, patient: Patient, queue: Queue | None = None) -> QueueEntry:
    return services.walk_in_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, patient=patient, queue=queue
    )


def to_provider(entry: QueueEntry) -> None:
    for step in (FlowStatus.CALLED, FlowStatus.IN_ROOM, FlowStatus.WITH_PROVIDER):
        services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to=step)


def test_a_patient_with_the_provider_cannot_be_walked_in_again_to_any_queue(
    personas: Personas, schedule: Schedule
) -> None:
    patient = make_patient(personas.clinic)
    first = walk_in(personas, patient)
    with pytest.raises(FlowRefusedError, match=r"already in the queue with ticket W-001 \(waiting"):
        walk_in(personas, patient)
    to_provider(first)
    provider_queue = services.queue_for_provider(clinic=personas.clinic, provider=schedule.provider)
    with pytest.raises(
        FlowRefusedError, match=r"already in the queue with ticket W-001 \(with provider\)"
    ):
        walk_in(personas, patient, provider_queue)
    assert QueueEntry.objects.filter(patient=patient).count() == 1

    services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=first, to=FlowStatus.DONE)
    assert walk_in(personas, patient).ticket == "W-002"  # came back later the same day


def test_a_patient_seen_for_an_appointment_cannot_be_walked_in_while_with_the_provider(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    entry = services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=appointment
    )
    to_provider(entry)
    with pytest.raises(FlowRefusedError, match=r"ticket A-001 \(with provider\)"):
        walk_in(personas, appointment.patient)


def test_two_appointments_of_one_patient_on_one_day_are_both_checked_in(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    patient = make_patient(personas.clinic)
    morning, later = make_appointment(patient), make_appointment(patient)
    tickets = [
        services.appointment_check_in(
            context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=a
        ).ticket
        for a in (morning, later)
    ]
    assert tickets == ["A-001", "A-002"]


def test_the_database_refuses_a_second_open_walk_in_of_one_patient_on_one_day(
    personas: Personas, schedule: Schedule
) -> None:
    entry = walk_in(personas, make_patient(personas.clinic))
    to_provider(entry)
    copy = QueueEntry.objects.get(pk=entry.pk)
    copy.pk = None
    copy.ticket = "W-002"
    copy.status = FlowStatus.WAITING
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save(force_insert=True)


def test_a_walk_in_that_slips_past_the_check_is_refused_by_the_database_in_the_same_words(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = make_patient(personas.clinic)
    walk_in(personas, patient)
    # As if another desk's entry were committed just after this desk looked.
    monkeypatch.setattr(services, "_open_entry", lambda patient, day: None)
    with pytest.raises(FlowRefusedError, match=r"already in the queue with ticket W-001"):
        walk_in(personas, patient)
    assert QueueEntry.objects.filter(patient=patient).count() == 1


def test_two_desks_walking_in_the_same_patient_at_once_give_one_entry(
    transactional_audit: None, personas: Personas, schedule: Schedule
) -> None:
    patient = make_patient(personas.clinic)
    queues = [
        services.walk_in_queue(personas.clinic),
        services.queue_for_provider(clinic=personas.clinic, provider=schedule.provider),
    ] * 2
    barrier = threading.Barrier(len(queues))
    outcomes: list[str] = []

    def attempt(queue: Queue) -> None:
        try:
            barrier.wait()
            outcomes.append(walk_in(personas, patient, queue).ticket)
        except FlowRefusedError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(q,)) for q in queues]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert QueueEntry.objects.filter(patient=patient).count() == 1
    refusals = [o for o in outcomes if "already in the queue with ticket" in o]
    assert len(outcomes) == len(queues) and len(refusals) == len(queues) - 1
