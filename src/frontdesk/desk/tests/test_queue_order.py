"""The desk queue: one ordered list over every source, each row explained in words, items
leaving the moment their cause is resolved, and deadlines counted in business days."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from conftest import Personas
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.desk.live import desk_version
from frontdesk.desk.scoring import ScoreFacts, reason_words, score_key
from frontdesk.desk.selectors import desk_page
from frontdesk.desk.tests.conftest import MakeAppointment
from frontdesk.flow import services as flow_services
from frontdesk.flow.models import FlowStatus, IncompleteRegistration, Priority, QueueEntry
from frontdesk.scheduling import services as scheduling_services
from frontdesk.scheduling.models import (
    CancelledBy,
    ClinicHoliday,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from frontdesk.scheduling.waitlist.steps import offer_close

pytestmark = pytest.mark.usefixtures("frozen")


def walk_in(personas: Personas, family: str, **extra: object) -> QueueEntry:
    return flow_services.walk_in_register(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        clinic=personas.clinic,
        given_name="Ann",
        family_name=family,
        birth_date=dt.date(1990, 5, 6),
        **extra,  # type: ignore[arg-type]
    )


def rows_of(personas: Personas, **extra: object) -> list[tuple[str, str, str]]:
    page = desk_page(user=personas.front_desk, now=timezone.now(), **extra)  # type: ignore[arg-type]
    return [
        (row.kind, row.reason, row.entry.patient_label if row.entry else "") for row in page.rows
    ]


def test_the_queue_orders_red_flag_then_waiting_patient_then_deadline_and_says_why(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    make_appointment(start=timezone.now() + dt.timedelta(hours=26))
    make_appointment(start=timezone.now() + dt.timedelta(hours=2, minutes=12))
    walk_in(personas, "Walker")
    walk_in(personas, "Urgent", priority=Priority.EMERGENCY, priority_reason="chest pain")
    frozen.shift(dt.timedelta(minutes=40))  # past the red threshold of 30 min waiting
    assert [(kind, reason) for kind, reason, _ in rows_of(personas)] == [
        (
            "waiting_red",
            "Red flag: emergency, clinician alerted · Overdue by 10 min · patient waiting "
            "40 min in the waiting room",
        ),
        ("waiting_red", "Overdue by 10 min · patient waiting 40 min in the waiting room"),
        ("walk_in_incomplete", "Open for 40 min · patient waiting in the waiting room: ask now"),
        ("walk_in_incomplete", "Open for 40 min · patient waiting in the waiting room: ask now"),
        ("unconfirmed", "Due in 1 h 32 min"),
        ("unconfirmed", "Due in 25 h"),
    ]


def test_the_score_puts_the_most_overdue_first_and_work_without_deadline_after_deadlines() -> None:
    now = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)

    def facts(ref: int, due: dt.datetime | None, age_h: int) -> ScoreFacts:
        return ScoreFacts("x", ref, due, now - dt.timedelta(hours=age_h), False, False)

    rows = [
        facts(1, None, 50),
        facts(2, now + dt.timedelta(minutes=12), 1),
        facts(3, now - dt.timedelta(hours=2), 1),
        facts(4, None, 60),
    ]
    assert [r.ref for r in sorted(rows, key=score_key)] == [3, 2, 4, 1]
    assert reason_words(rows[2], now=now) == "Overdue by 2 h"
    assert reason_words(rows[1], now=now, waiting="at the desk") == "Due in 12 min"
    waiting = ScoreFacts("x", 5, now + dt.timedelta(minutes=12), now, False, True)
    assert reason_words(waiting, now=now, waiting="at the desk") == (
        "Due in 12 min · patient waiting at the desk"
    )
    flagged = ScoreFacts("x", 6, None, now - dt.timedelta(days=3), True, False)
    assert reason_words(flagged, now=now, flag="chest pain") == (
        "Red flag: chest pain · Open for 3 days"
    )


def test_a_confirmed_appointment_leaves_the_queue_and_raises_the_desk_version(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    assert [kind for kind, _, _ in rows_of(personas)] == ["unconfirmed"]
    before = desk_version(personas.clinic.pk)
    scheduling_services.appointment_confirm(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=appointment
    )
    assert rows_of(personas) == []
    assert desk_version(personas.clinic.pk) > before


def test_a_cancelled_appointment_leaves_the_queue(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    scheduling_services.appointment_cancel(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=appointment,
        reason="patient asked",
        cancelled_by=CancelledBy.PATIENT,
    )
    assert rows_of(personas) == []


def test_a_completed_walk_in_registration_and_a_called_patient_leave_the_queue(
    personas: Personas, frozen: time_machine.Traveller
) -> None:
    entry = walk_in(personas, "Walker")
    frozen.shift(dt.timedelta(minutes=31))
    assert sorted(kind for kind, _, _ in rows_of(personas)) == ["waiting_red", "walk_in_incomplete"]
    flow_services.queue_entry_move(
        context=SYSTEM_CONTEXT, user=None, entry=entry, to=FlowStatus.CALLED
    )
    # Called: no longer waiting, so neither past the limit nor "waiting" for the registration.
    assert [(kind, reason) for kind, reason, _ in rows_of(personas)] == [
        ("walk_in_incomplete", "Open for 31 min")
    ]
    record = IncompleteRegistration.objects.get(patient_id=entry.patient_id)
    flow_services.incomplete_registration_complete(
        context=SYSTEM_CONTEXT, user=personas.front_desk, record=record
    )
    assert rows_of(personas) == []


def test_a_waitlist_offer_is_desk_work_in_the_second_half_of_its_life_until_answered(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    appointment = make_appointment()
    entry = WaitlistEntry.objects.create(
        clinic=personas.clinic,
        patient=appointment.patient,
        appointment_type=appointment.appointment_type,
        earliest_date=timezone.now().date(),
        latest_date=timezone.now().date() + dt.timedelta(days=7),
        created_at=timezone.now(),
    )
    offer = WaitlistOffer.objects.create(
        entry=entry,
        schedule=appointment.schedule,
        provider=appointment.provider,
        start=timezone.now() + dt.timedelta(days=1),
        end=timezone.now() + dt.timedelta(days=1, minutes=20),
        expires_at=timezone.now() + settings.WAITLIST_OFFER_TTL,
        created_at=timezone.now(),
    )
    appointment.confirmed_at = timezone.now()
    appointment.save()
    assert rows_of(personas) == []
    frozen.shift(settings.WAITLIST_OFFER_TTL / 2 + dt.timedelta(minutes=1))
    assert [(kind, reason) for kind, reason, _ in rows_of(personas)] == [
        ("offer_expiring", "Due in 59 min")
    ]
    offer_close(offer, WaitlistOfferStatus.DECLINED, timezone.now())
    assert rows_of(personas) == []


def test_unconfirmed_appointments_count_two_business_days_across_the_weekend_and_holidays(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    # Friday 27 November 2026, 16:00 in New York (21:00 UTC).
    frozen.move_to(dt.datetime(2026, 11, 27, 21, 0, tzinfo=dt.UTC))

    def at(day: int, hour_utc: int = 15) -> dt.datetime:
        return dt.datetime(2026, 11, day, hour_utc, 0, tzinfo=dt.UTC)

    saturday = make_appointment(start=at(28))
    monday = make_appointment(start=at(30))
    tuesday_late = make_appointment(start=dt.datetime(2026, 12, 2, 4, 30, tzinfo=dt.UTC))
    wednesday = make_appointment(start=dt.datetime(2026, 12, 2, 15, tzinfo=dt.UTC))

    def shown() -> set[int]:
        page = desk_page(user=personas.front_desk, now=timezone.now())
        return {row.ref for row in page.rows}

    # The next two business days are Monday and Tuesday (to local midnight, 05:00 UTC).
    assert shown() == {saturday.pk, monday.pk, tuesday_late.pk}
    ClinicHoliday.objects.create(clinic=personas.clinic, date=dt.date(2026, 11, 30), name="Closed")
    # Monday closed: Tuesday and Wednesday are the two business days.
    assert shown() == {saturday.pk, monday.pk, tuesday_late.pk, wednesday.pk}


def test_a_restricted_record_is_named_by_its_mrn_alone(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    appointment.patient.confidentiality = "restricted"
    appointment.patient.save()
    [(_, _, label)] = rows_of(personas)
    assert label == f"Restricted record · MRN {appointment.patient.mrn}"
    assert appointment.patient.family_name not in label


def test_a_walk_in_late_in_the_evening_is_waiting_on_the_clinics_own_day(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    make_appointment()  # sets the clinic's zone (New York)
    # 22:30 on Monday in New York is already Tuesday in UTC.
    frozen.move_to(dt.datetime(2026, 11, 24, 3, 30, tzinfo=dt.UTC))
    walk_in(personas, "Late")
    rows = [r for r in rows_of(personas) if r[0] == "walk_in_incomplete"]
    assert rows == [
        (
            "walk_in_incomplete",
            "Open for under a minute · patient waiting in the waiting room: ask now",
            "Late, Ann",
        )
    ]


def test_every_page_is_its_slice_of_the_whole_order_across_sources(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    # Each source's branch is cut to its own first offset + page size rows before the union
    # is ordered: the pages must still be the slices of one ordered list, with one total.
    for hours in (30, 3, 27, 5, 2):
        make_appointment(start=timezone.now() + dt.timedelta(hours=hours))
    walk_in(personas, "Walker")
    walk_in(personas, "Urgent", priority=Priority.EMERGENCY, priority_reason="chest pain")
    frozen.shift(dt.timedelta(minutes=40))
    now = timezone.now()
    whole = desk_page(user=personas.front_desk, now=now)
    assert [r.facts for r in whole.rows] == sorted((r.facts for r in whole.rows), key=score_key)
    assert whole.total == len(whole.rows) == 9  # 5 appointments, 2 registrations, 2 waiting
    paged = []
    for number in range(1, 6):
        page = desk_page(user=personas.front_desk, now=now, page=number, page_size=2)
        assert page.total == whole.total
        paged += [row.key for row in page.rows]
    assert paged == [row.key for row in whole.rows]
