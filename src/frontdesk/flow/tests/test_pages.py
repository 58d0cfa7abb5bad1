from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import live, services
from frontdesk.flow.models import FlowStatus, PatientConsent, QueueEntry
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.scheduling.models import AppointmentStatus

pytestmark = pytest.mark.usefixtures("frozen")


def desk(personas: Personas) -> Client:
    return login_client(Client(), personas.front_desk)


def up_to_date(patient: object) -> None:
    """A patient with nothing outstanding at the desk except the insurance card."""
    from frontdesk.patients.models import Patient

    assert isinstance(patient, Patient)
    Patient.objects.filter(pk=patient.pk).update(address_confirmed_on=dt.date(2026, 6, 1))
    PatientConsent.objects.create(
        patient=patient,
        kind="treatment",
        signed_on=dt.date(2026, 6, 1),
        recorded_at=timezone.now(),
    )


def test_today_lists_the_days_appointments_by_status_with_time_in_status(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    late = make_appointment(
        make_patient(personas.clinic, given_name="Lena", family_name="Late"),
        start=timezone.now() - dt.timedelta(minutes=25),
    )
    arrived = make_appointment(make_patient(personas.clinic, given_name="Ari", family_name="Here"))
    make_appointment(
        make_patient(personas.clinic, given_name="Cam", family_name="Gone"),
        status=AppointmentStatus.CANCELLED,
    )
    make_appointment(
        make_patient(personas.clinic, given_name="Tom", family_name="Tomorrow"),
        start=timezone.now() + dt.timedelta(days=1),
    )
    services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=arrived
    )
    frozen.shift(dt.timedelta(minutes=7))

    client = desk(personas)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/flow/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Late, Lena" in text and "32 min late" in text
    assert "Here, Ari" in text and "A-001" in text and "7 min" in text
    assert "Gone, Cam" in text and "Cancelled" in text
    assert "Tomorrow" not in text
    # The late patient is the next expected one: one key (Enter) opens their check-in.
    assert f'action="/flow/check-in/{late.pk}/"' in text and "autofocus" in text
    assert 'accesskey="c"' in text
    event = AuditEvent.objects.filter(object_type="flow_today").get()
    assert len(event.patient_ids) == 3
    # The number of queries does not grow with the number of patients.
    for _ in range(3):
        services.appointment_check_in(
            context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=make_appointment()
        )
    with CaptureQueriesContext(connection) as more:
        client.get("/flow/")
    assert len(more) == len(queries) <= 24


def test_today_filters_by_provider_and_location(
    personas: Personas, make_appointment: MakeAppointment, schedule: object
) -> None:
    from frontdesk.clinic.models import Location, Provider
    from frontdesk.scheduling.models import Schedule

    other_place = Location.objects.create(clinic=personas.clinic, name="Southside")
    other_doctor = Provider.objects.create(
        clinic=personas.clinic, given_name="Raj", family_name="Rao", specialty="Family"
    )
    other = Schedule.objects.create(
        clinic=personas.clinic, provider=other_doctor, location=other_place
    )
    make_appointment(make_patient(personas.clinic, family_name="Northerly"))
    make_appointment(make_patient(personas.clinic, family_name="Southerly"), schedule_=other)
    client = desk(personas)

    by_provider = client.get(f"/flow/?provider={other_doctor.pk}").content.decode()
    assert "Southerly" in by_provider and "Northerly" not in by_provider
    by_place = client.get(f"/flow/?location={other_place.pk}").content.decode()
    assert "Southerly" in by_place and "Northerly" not in by_place
    nonsense = client.get("/flow/?location=%F0%9F%98%80&provider=-1")
    assert nonsense.status_code == 200
    assert "Northerly" in nonsense.content.decode()


@pytest.mark.usefixtures("desk_drawer")
def test_today_links_names_to_the_chart_and_a_paid_visit_to_its_receipt(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    from decimal import Decimal

    from frontdesk.billing.services import check_in_payment_record

    paid = make_appointment(make_patient(personas.clinic, given_name="Pia", family_name="Paid"))
    unpaid = make_appointment(make_patient(personas.clinic, given_name="Uma", family_name="Owing"))
    taken = check_in_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=paid,
        amount=Decimal("25.00"),
        method="card",
        copay=None,
    )
    for appointment in (paid, unpaid):
        services.appointment_check_in(
            context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=appointment
        )
    client = desk(personas)
    with CaptureQueriesContext(connection) as queries:
        text = client.get("/flow/").content.decode()
    assert f'<a href="/patients/{paid.patient_id}/">Paid, Pia</a>' in text
    assert f'<a href="/patients/{unpaid.patient_id}/">Owing, Uma</a>' in text
    # Checked in: the check-in page (and its receipts) stays one click away.
    assert f'href="/flow/check-in/{paid.pk}/">Check-in' in text
    assert f'href="/flow/check-in/{unpaid.pk}/">Check-in' in text
    assert text.count('href="/billing/receipts/') == 1
    assert f'href="/billing/receipts/{taken.payment.pk}/"' in text
    # A nurse takes no payments: no receipts, no check-in links.
    nurse = login_client(Client(), personas.nurse).get("/flow/").content.decode()
    assert "/billing/receipts/" not in nurse and "/flow/check-in/" not in nurse
    assert len(queries) <= 24


def test_check_in_page_reads_back_identity_and_lists_what_is_missing(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    patient = make_patient(
        personas.clinic,
        given_name="Ines",
        family_name="Duarte",
        address_confirmed_on=dt.date(2025, 1, 5),
    )
    appointment = make_appointment(patient)
    response = desk(personas).get(f"/flow/check-in/{appointment.pk}/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "D-U-A-R-T-E" in text
    assert "Wednesday, the second of January, nineteen eighty" in text
    assert "No current insurance on file." in text
    assert "Address last confirmed on Jan 5, 2025." in text
    assert "Consent to treatment is due." in text
    assert AuditEvent.objects.filter(object_type="check_in", patient_ids=[patient.pk]).exists()


def test_check_in_shows_the_address_to_confirm_as_the_chart_does(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    patient = make_patient(
        personas.clinic,
        address_line1="1763 Molly Court",
        city="Singhville",
        state="DC",
        postal_code="20016",
        address_confirmed_on=dt.date(2025, 1, 5),
    )
    appointment = make_appointment(patient)
    client = desk(personas)
    check_in = client.get(f"/flow/check-in/{appointment.pk}/").content.decode()
    chart = client.get(f"/patients/{patient.pk}/").content.decode()
    written = "1763 Molly Court<br>Singhville, DC 20016"
    assert written in check_in
    assert written in chart
    assert "20016 Singhville" not in check_in


def test_checking_in_issues_a_ticket_and_records_what_was_fixed(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment(make_patient(personas.clinic, given_name="Ines"))
    response = desk(personas).post(
        f"/flow/check-in/{appointment.pk}/",
        {
            "identity_confirmed": "on",
            "confirm_address": "on",
            "consent_signed": "on",
            "priority": "normal",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/flow/"
    assert "Checked in Ines Smith: ticket A-001 for Mei Lee, MD." in response.content.decode()
    entry = QueueEntry.objects.get()
    assert entry.status == FlowStatus.WAITING
    appointment.refresh_from_db()
    appointment.patient.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    assert appointment.patient.address_confirmed_on == dt.date(2026, 11, 23)
    assert PatientConsent.objects.filter(patient=appointment.patient).exists()


def test_a_check_in_without_the_read_back_keeps_what_was_typed(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    response = desk(personas).post(
        f"/flow/check-in/{appointment.pk}/",
        {"consent_signed": "on", "priority": "urgent", "priority_reason": ""},
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "Read the name and birth date back to the patient first." in text
    assert "Say why this patient cannot wait their turn." in text
    assert re.search(r'<input[^>]*name="consent_signed"[^>]*checked', text)
    assert 'value="urgent" selected' in text
    assert not QueueEntry.objects.exists()


def test_double_and_cancelled_check_ins_are_explained_on_the_page(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    client = desk(personas)
    form = {"identity_confirmed": "on", "priority": "normal"}
    assert client.post(f"/flow/check-in/{appointment.pk}/", form).status_code == 302
    again = client.post(f"/flow/check-in/{appointment.pk}/", form)
    assert again.status_code == 400
    assert "Already checked in at 10:00 with ticket A-001" in again.content.decode()

    cancelled = make_appointment(status=AppointmentStatus.CANCELLED)
    page = client.get(f"/flow/check-in/{cancelled.pk}/").content.decode()
    assert "This appointment was cancelled; it cannot be checked in." in page
    refused = client.post(f"/flow/check-in/{cancelled.pk}/", form)
    assert refused.status_code == 400
    assert "was cancelled" in refused.content.decode()
    assert QueueEntry.objects.count() == 1


def test_a_nurse_sees_today_but_cannot_check_in(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    nurse = login_client(Client(), personas.nurse)
    page = nurse.get("/flow/")
    assert page.status_code == 200 and "/flow/check-in/" not in page.content.decode()
    assert nurse.get(f"/flow/check-in/{appointment.pk}/").status_code == 403


def test_another_clinic_cannot_check_in_this_clinics_patient(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    appointment = make_appointment()
    outsider = login_client(Client(), personas.outsider)
    assert outsider.get(f"/flow/check-in/{appointment.pk}/").status_code == 404
    assert (
        outsider.post(f"/flow/check-in/{appointment.pk}/", {"identity_confirmed": "on"}).status_code
        == 404
    )
    assert not QueueEntry.objects.exists()
    assert "Smith" not in outsider.get("/flow/").content.decode()


def _checked_in(personas: Personas, make_appointment: MakeAppointment, **kw: object) -> QueueEntry:
    return services.appointment_check_in(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=make_appointment(**kw),
    )


def test_the_board_shows_patients_by_status_turning_amber_then_red(
    personas: Personas, make_appointment: MakeAppointment, frozen: time_machine.Traveller
) -> None:
    first = _checked_in(personas, make_appointment)
    frozen.shift(dt.timedelta(minutes=16))
    second = _checked_in(personas, make_appointment)
    services.queue_entry_move(
        context=SYSTEM_CONTEXT, user=None, entry=second, to=FlowStatus.CALLED, room="Room 3"
    )
    nurse = login_client(Client(), personas.nurse)
    with CaptureQueriesContext(connection) as queries:
        text = nurse.get("/flow/board/").content.decode()
    more = [_checked_in(personas, make_appointment) for _ in range(3)]
    with CaptureQueriesContext(connection) as again:
        nurse.get("/flow/board/")
    assert len(again) == len(queries) <= 18
    for entry in more:
        services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to="left")  # type: ignore[arg-type]
    assert 'class="card level-amber priority-normal" data-ticket="A-001"' in text
    assert "16 min" in text
    assert 'data-ticket="A-002"' in text and "Room 3" in text
    frozen.shift(dt.timedelta(minutes=15))
    text = nurse.get("/flow/board/").content.decode()
    assert 'class="card level-red priority-normal" data-ticket="A-001"' in text
    assert 'class="card level-red priority-normal" data-ticket="A-002"' in text  # called 15 min
    assert first.ticket in text


def test_call_next_in_one_click_and_the_steps_after_it(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = _checked_in(personas, make_appointment)
    nurse = login_client(Client(), personas.nurse)
    response = nurse.post(
        "/flow/board/call-next/", {"queue": entry.queue_id, "room": "Room 1"}, follow=True
    )
    assert "Called A-001 to Room 1." in response.content.decode()
    for step in ("in_room", "with_provider", "done"):
        entry.refresh_from_db()
        nurse.post("/flow/board/move/", {"entry": entry.pk, "to": step, "expected": entry.status})
    entry.refresh_from_db()
    assert entry.status == FlowStatus.DONE and entry.room == "Room 1"
    assert [e.to_status for e in entry.events.all()] == [
        "waiting",
        "called",
        "in_room",
        "with_provider",
        "done",
    ]


def test_the_board_explains_a_lost_race_and_nonsense_without_an_error_page(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = _checked_in(personas, make_appointment)
    nurse = login_client(Client(), personas.nurse)
    nurse.post("/flow/board/move/", {"entry": entry.pk, "to": "called", "expected": "waiting"})
    second = nurse.post(
        "/flow/board/move/", {"entry": entry.pk, "to": "called", "expected": "waiting"}, follow=True
    )
    assert "A-001 was just marked called by Nora; nothing was changed." in (second.content.decode())
    for bad in (
        {"entry": entry.pk, "to": "flying", "expected": "called"},
        {"entry": entry.pk, "to": "done", "expected": "<script>"},
        {"entry": "١", "to": "done"},
    ):
        answer = nurse.post("/flow/board/move/", bad)
        assert answer.status_code in (302, 404)
    empty = nurse.post("/flow/board/call-next/", {"queue": entry.queue_id}, follow=True)
    assert "Nobody is waiting for Mei Lee, MD." in empty.content.decode()


def test_the_board_part_is_only_sent_again_when_the_flow_changed(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    entry = _checked_in(personas, make_appointment)
    nurse = login_client(Client(), personas.nurse)
    version = live.flow_version(personas.clinic.pk)
    assert nurse.get(f"/flow/board/live/?since={version}").status_code == 204
    services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to=FlowStatus.CALLED)
    fresh = nurse.get(f"/flow/board/live/?since={version}")
    assert fresh.status_code == 200
    assert f'data-version="{version + 1}"' in fresh.content.decode()


def test_the_event_stream_is_offered_while_a_stream_place_is_free(
    personas: Personas, settings: Any
) -> None:
    nurse = login_client(Client(), personas.nurse)
    offered = nurse.get("/flow/board/events/")
    # Offered, not yet sent: it takes a stream place only once the server starts sending it.
    assert offered.status_code == 200 and offered["Content-Type"] == "text/event-stream"
    assert live.streams_open() == 0
    settings.FLOW_STREAMS = 0  # none: the page falls back to polling
    assert nurse.get("/flow/board/events/").status_code == 204


def test_an_emergency_raises_an_alert_on_the_board(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    services.appointment_check_in(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        appointment=make_appointment(),
        priority="emergency",  # type: ignore[arg-type]
        priority_reason="short of breath",
    )
    text = login_client(Client(), personas.physician).get("/flow/board/").content.decode()
    assert 'role="alert" data-emergency="1"' in text and "short of breath" in text
