from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType
from frontdesk.patients.models import Patient
from frontdesk.scheduling import services
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentStatus,
    CancelledBy,
    Schedule,
)

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # Monday 08:00 in New York


@pytest.fixture(autouse=True)
def _frozen() -> object:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def at(tz: zoneinfo.ZoneInfo, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=tz)


def book(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    kind: AppointmentType,
    start: dt.datetime,
    **extra: object,
) -> Appointment:
    return services.appointment_book(
        context=SYSTEM_CONTEXT,
        user=extra.pop("user", personas.front_desk),  # type: ignore[arg-type]
        patient=patient,
        schedule=schedule,
        appointment_type=kind,
        start=start,
        **extra,  # type: ignore[arg-type]
    )


def test_it_books_a_free_time_with_history_and_audit(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    appointment = book(personas, patient, schedule, follow_up, at(clinic_tz, 24, 9))
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.end - appointment.start == dt.timedelta(minutes=30)
    assert appointment.history.get().to_status == "booked"
    assert AuditEvent.objects.filter(object_type="appointment", patient_ids=[patient.pk]).exists()


def test_a_thirty_minute_visit_blocks_both_halves_of_its_grid(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    book(personas, patient, schedule, follow_up, at(clinic_tz, 24, 9))
    other = make_patient(personas.clinic, given_name="Ana", family_name="Silva")
    with pytest.raises(services.BookingRefusedError):
        book(personas, other, schedule, follow_up, at(clinic_tz, 24, 9, 15))
    assert Appointment.objects.count() == 1
    book(personas, other, schedule, follow_up, at(clinic_tz, 24, 9, 30))


def test_the_database_itself_refuses_an_overlapping_appointment(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    first = book(personas, patient, schedule, follow_up, at(clinic_tz, 24, 10))
    clash = Appointment(
        clinic=first.clinic,
        patient=patient,
        schedule=schedule,
        provider=first.provider,
        appointment_type=follow_up,
        start=first.start + dt.timedelta(minutes=10),
        end=first.end + dt.timedelta(minutes=10),
        busy_start=first.start + dt.timedelta(minutes=10),
        busy_end=first.end + dt.timedelta(minutes=10),
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    with pytest.raises(IntegrityError, match="appt_no_double_booking"), transaction.atomic():
        clash.save()
    # Moving an existing appointment onto it is refused too.
    second = book(personas, patient, schedule, follow_up, at(clinic_tz, 24, 11))
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=second.pk).update(
            busy_start=first.start, busy_end=first.end, start=first.start, end=first.end
        )


def test_a_cancelled_appointment_frees_its_time(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    first = book(personas, patient, schedule, follow_up, at(clinic_tz, 25, 9))
    cancelled = services.appointment_cancel(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=first,
        cancelled_by=CancelledBy.PATIENT,
        reason="feeling better",
    )
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert not cancelled.late_cancellation  # two days ahead
    book(
        personas,
        make_patient(personas.clinic, given_name="Zoe"),
        schedule,
        follow_up,
        at(clinic_tz, 25, 9),
    )


def test_a_cancellation_within_a_day_is_flagged_late_and_needs_a_reason(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    first = book(personas, patient, schedule, follow_up, at(clinic_tz, 23, 15))
    with pytest.raises(services.BookingRefusedError, match="Say why"):
        services.appointment_cancel(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=first,
            cancelled_by=CancelledBy.PATIENT,
            reason=" ",
        )
    late = services.appointment_cancel(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=first,
        cancelled_by=CancelledBy.CLINIC,
        reason="provider ill",
    )
    assert late.late_cancellation and late.cancelled_by == "clinic"


def test_rescheduling_moves_the_visit_or_leaves_it_where_it_was(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    mine = book(personas, patient, schedule, follow_up, at(clinic_tz, 24, 9))
    theirs = book(
        personas,
        make_patient(personas.clinic, given_name="Kai"),
        schedule,
        follow_up,
        at(clinic_tz, 24, 14),
    )
    # Overlapping its own old time is fine: one UPDATE moves it.
    moved = services.appointment_reschedule(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=mine,
        schedule=schedule,
        start=at(clinic_tz, 24, 9, 15),
        reason="running late",
    )
    assert moved.start == at(clinic_tz, 24, 9, 15)
    with pytest.raises(services.BookingRefusedError):
        services.appointment_reschedule(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=mine,
            schedule=schedule,
            start=theirs.start,
        )
    mine.refresh_from_db()
    assert mine.start == at(clinic_tz, 24, 9, 15) and mine.status == "booked"
    assert [h.from_start for h in mine.history.all()][-1] == at(clinic_tz, 24, 9)


def test_only_supervisors_overbook_with_a_reason_within_the_cap(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    start = at(clinic_tz, 24, 10)
    book(personas, patient, schedule, follow_up, start)
    second = make_patient(personas.clinic, given_name="Ola")
    with pytest.raises(services.BookingRefusedError, match="Only a supervisor"):
        book(personas, second, schedule, follow_up, start, overbook_reason="urgent")
    squeezed = book(
        personas,
        second,
        schedule,
        follow_up,
        start,
        overbook_reason="urgent wound check",
        user=personas.supervisor,
    )
    assert squeezed.is_overbook
    third = make_patient(personas.clinic, given_name="Pia")
    with pytest.raises(services.BookingRefusedError, match="its limit"):
        book(
            personas,
            third,
            schedule,
            follow_up,
            start,
            overbook_reason="also urgent",
            user=personas.supervisor,
        )


def test_confirm_and_no_show_by_hand_and_automatically(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    _frozen: time_machine.Traveller,
) -> None:
    first = book(personas, patient, schedule, follow_up, at(clinic_tz, 23, 9))
    confirmed = services.appointment_confirm(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=first
    )
    assert confirmed.confirmed_at is not None
    other = book(
        personas,
        make_patient(personas.clinic, given_name="Rui"),
        schedule,
        follow_up,
        at(clinic_tz, 23, 10),
    )
    services.appointment_no_show(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=other
    )
    _frozen.shift(dt.timedelta(hours=3))  # 11:00 local: 9:30 ended 90 minutes ago
    assert services.appointments_mark_no_shows(context=SYSTEM_CONTEXT, now=timezone.now()) == 1
    first.refresh_from_db()
    assert first.status == AppointmentStatus.NOSHOW
    with pytest.raises(services.BookingRefusedError, match="no-show"):
        services.appointment_cancel(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=first,
            cancelled_by=CancelledBy.PATIENT,
            reason="late call",
        )


def test_times_outside_the_providers_hours_or_in_the_past_are_refused_in_words(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    with pytest.raises(services.BookingRefusedError) as outside:
        book(personas, patient, schedule, follow_up, at(clinic_tz, 24, 18))
    with pytest.raises(services.BookingRefusedError) as past:
        book(personas, patient, schedule, follow_up, at(clinic_tz, 20, 10))
    with pytest.raises(services.BookingRefusedError, match="time zone"):
        book(personas, patient, schedule, follow_up, dt.datetime(2026, 11, 24, 10))  # noqa: DTZ001
    assert str(outside.value) and str(past.value)
    assert not Appointment.objects.exists()


def test_two_officers_racing_for_one_time_never_both_win(
    transactional_audit: None,
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    patients = [make_patient(personas.clinic, given_name=f"Racer{i}") for i in range(6)]
    start = at(clinic_tz, 24, 9)
    barrier = threading.Barrier(len(patients))
    outcomes: list[str] = []

    def attempt(patient: Patient) -> None:
        try:
            barrier.wait()
            book(personas, patient, schedule, follow_up, start)
            outcomes.append("booked")
        except services.SlotTakenError:
            outcomes.append("taken")
        except services.BookingRefusedError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("booked") == 1
    assert Appointment.objects.filter(status="booked").count() == 1


def test_officers_racing_for_overlapping_times_of_one_provider_never_deadlock(
    transactional_audit: None,
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No retry: a deadlock would reach the officer as an error.
    monkeypatch.setattr(services, "DEADLOCK_RETRIES", 1)
    patients = [make_patient(personas.clinic, given_name=f"Racer{i}") for i in range(8)]
    outcomes: list[str] = []
    for day in (24, 25, 26):
        # 30-minute visits a quarter hour apart: each overlaps its neighbours.
        starts = [at(clinic_tz, day, 9) + dt.timedelta(minutes=15 * (i % 4)) for i in range(8)]
        barrier = threading.Barrier(len(patients))

        def attempt(patient: Patient, start: dt.datetime, barrier: threading.Barrier) -> None:
            try:
                barrier.wait()
                book(personas, patient, schedule, follow_up, start)
                outcomes.append("booked")
            except services.BookingRefusedError:
                outcomes.append("refused")
            except Exception as exc:  # what would reach the officer
                outcomes.append(f"error: {exc}")
            finally:
                connection.close()

        threads = [
            threading.Thread(target=attempt, args=(p, s, barrier))
            for p, s in zip(patients, starts, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("booked") >= 3
