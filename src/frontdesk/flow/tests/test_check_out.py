from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.test import Client

from conftest import Personas, login_client
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import services
from frontdesk.flow.models import FlowStatus
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.scheduling.models import AppointmentStatus, ScheduleTemplate

pytestmark = pytest.mark.usefixtures("frozen")


def test_check_out_offers_the_follow_up_prefilled_prints_a_slip_and_fulfils_the_visit(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    kind = appointment.appointment_type
    kind.follow_up_interval_days = 28
    kind.save()
    entry = services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=appointment
    )
    for step in (FlowStatus.CALLED, FlowStatus.IN_ROOM, FlowStatus.WITH_PROVIDER):
        entry = services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to=step)
    desk = login_client(Client(), personas.front_desk)
    assert f"/flow/check-out/{appointment.pk}/" in desk.get("/flow/").content.decode()

    page = desk.get(f"/flow/check-out/{appointment.pk}/").content.decode()
    assert (
        f"/schedule/patients/{appointment.patient_id}/find/?appointment_type={kind.pk}"
        f"&amp;provider={appointment.provider_id}&amp;date_from=2026-12-21"
    ) in page
    slip = desk.get(f"/flow/check-out/{appointment.pk}/?slip=1").content.decode()
    assert "Please book a follow-up visit from December 21." in slip
    assert AuditEvent.objects.filter(action="print", object_type="visit_slip").exists()

    done = desk.post(f"/flow/check-out/{appointment.pk}/", follow=True)
    assert "John Smith is checked out." in done.content.decode()
    appointment.refresh_from_db()
    entry.refresh_from_db()
    assert appointment.status == AppointmentStatus.FULFILLED
    assert entry.status == FlowStatus.DONE


def test_the_visit_slip_shows_the_follow_up_booked_at_check_out(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    location = appointment.schedule.location
    location.address = "12 Elm Street"
    location.save()
    services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=appointment
    )
    follow_up = make_appointment(
        appointment.patient, start=dt.datetime(2026, 12, 21, 14, 30, tzinfo=dt.UTC)
    )
    desk = login_client(Client(), personas.front_desk)
    slip = desk.get(f"/flow/check-out/{appointment.pk}/?slip=1").content.decode()
    next_visit = slip.split("<dt>Next visit</dt>", 1)[1].split("</dd>", 1)[0]
    assert "Monday, December 21, 2026, 09:30" in next_visit
    assert str(follow_up.provider) in next_visit
    assert "Northside, 12 Elm Street" in next_visit
    # As in reminders, the type of visit is left off: it can reveal a diagnosis.
    assert follow_up.appointment_type.name not in next_visit
    assert "Please book" not in slip


def test_a_patient_not_yet_seen_or_never_checked_in_cannot_be_checked_out(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    desk = login_client(Client(), personas.front_desk)
    never = make_appointment()
    response = desk.post(f"/flow/check-out/{never.pk}/", follow=True)
    assert "This patient was never checked in; check them in first." in response.content.decode()

    waiting = make_appointment()
    services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=waiting
    )
    response = desk.post(f"/flow/check-out/{waiting.pk}/", follow=True)
    assert "A-001 has not been seen yet (waiting)." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == AppointmentStatus.CHECKED_IN


def test_booking_the_follow_up_returns_to_the_check_out_showing_it(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    kind = appointment.appointment_type
    kind.follow_up_interval_days = 28
    kind.save()
    ScheduleTemplate.objects.create(
        schedule=appointment.schedule,
        rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        start_time=dt.time(9, 0),
        end_time=dt.time(17, 0),
        valid_from=dt.date(2026, 1, 1),
        slot_minutes=15,
    )
    entry = services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=appointment
    )
    for step in (FlowStatus.CALLED, FlowStatus.IN_ROOM, FlowStatus.WITH_PROVIDER):
        entry = services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to=step)
    desk = login_client(Client(), personas.front_desk)
    check_out = f"/flow/check-out/{appointment.pk}/"

    page = desk.get(check_out).content.decode()
    link = unescape(re.search(r'href="([^"]*/find/[^"]*)"', page).group(1))  # type: ignore[union-attr]
    assert link.endswith("&next=%2Fflow%2Fcheck-out%2F" + f"{appointment.pk}%2F")
    find = desk.get(link).content.decode()
    assert f'name="next" value="{check_out}"' in find
    assert "Back to the check-out without booking" in find
    slot = unescape(re.findall(r'name="slot" value="([^"]+)"', find)[0])
    booked = desk.post(
        f"/schedule/patients/{appointment.patient_id}/book/",
        {"slot": slot, "appointment_type": str(kind.pk), "next": check_out, "confirm": "yes"},
    )

    assert booked.status_code == 302 and booked["Location"] == check_out
    back = desk.get(check_out).content.decode()
    assert "Booked John Smith with Mei Lee, MD on Mon Dec 21 at 09:00." in back
    assert "<dt>Follow-up booked</dt><dd>Monday, December 21, 09:00 with Mei Lee, MD" in back
    assert "Complete check-out" in back
    done = desk.post(check_out, follow=True)
    assert "John Smith is checked out." in done.content.decode()
