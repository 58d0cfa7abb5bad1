"""An emergency at the desk alerts the clinicians at once and is never given a wait: a banner
on every nurse's and physician's page and on the board until one of them acknowledges it, the
desk sees who is going and the emergency playbook, and the supervisor is told after
EMERGENCY_ESCALATE_MINUTES without an acknowledgement."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.accounts.policy import Action, role_may
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.flow import display, services, tasks
from frontdesk.flow.emergency import (
    EmergencyRefusedError,
    emergency_alert_acknowledge,
    emergency_alerts_escalate,
)
from frontdesk.flow.forecast import clinic_forecasts
from frontdesk.flow.models import EmergencyAlert, FlowStatus, Priority, QueueEntry
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.patients.models import SupervisorNotice

pytestmark = pytest.mark.usefixtures("frozen")

REASON = "Chest pain, short of breath"
WALK_IN = {
    "given_name": "Walter",
    "family_name": "Inman",
    "birth_date": "03/14/1985",
    "phone": "(202) 555-0161",
    "queue": "0",
    "priority": "emergency",
    "priority_reason": REASON,
}
ACKNOWLEDGE = "Acknowledge: I am going"


def _normal_walk_in(personas: Personas, given_name: str = "Nina") -> QueueEntry:
    return services.walk_in_check_in(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=make_patient(personas.clinic, given_name=given_name, family_name="Normal"),
    )


def _emergency(personas: Personas, given_name: str = "Walter") -> QueueEntry:
    return services.walk_in_check_in(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=make_patient(personas.clinic, given_name=given_name, family_name="Inman"),
        priority=Priority.EMERGENCY,
        priority_reason=REASON,
    )


def _page(client: Client, url: str = "/patients/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_emergency_walk_in_alerts_the_clinicians_and_is_told_no_wait(
    personas: Personas,
) -> None:
    _normal_walk_in(personas)  # someone ahead: a forecast would have said "about 15 min"
    desk = login_client(Client(), personas.front_desk)
    response = desk.post("/flow/walk-in/", WALK_IN, follow=True)
    text = response.content.decode()
    entry = QueueEntry.objects.get(patient__family_name="Inman")
    assert entry.told_wait_minutes is None and entry.told_at is None
    assert "Clinician alerted" in text and "Give no waiting time" in text
    assert "about 15 min" not in text and "Tell the patient: about" not in text
    alert = EmergencyAlert.objects.get(entry=entry)
    assert alert.acknowledged_at is None and alert.raised_by == personas.front_desk
    assert alert.raised_at == timezone.now()
    event = AuditEvent.objects.get(object_type="emergency_alert")
    assert event.action == AuditAction.CREATE and event.patient_ids == [entry.patient_id]


def test_an_emergency_check_in_is_told_no_wait(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    from frontdesk.flow.tests.test_pages import up_to_date

    appointment = make_appointment(start=timezone.now() + dt.timedelta(minutes=45))
    up_to_date(appointment.patient)
    desk = login_client(Client(), personas.front_desk)
    response = desk.post(
        f"/flow/check-in/{appointment.pk}/",
        {"identity_confirmed": "on", "priority": "emergency", "priority_reason": REASON},
        follow=True,
    )
    text = response.content.decode()
    entry = QueueEntry.objects.get(appointment=appointment)
    assert entry.told_wait_minutes is None
    assert "Clinician alerted" in text and "Tell the patient: about" not in text
    assert EmergencyAlert.objects.filter(entry=entry, acknowledged_at=None).exists()


def test_the_forecast_gives_an_emergency_no_wait_and_counts_its_visit_for_those_behind(
    personas: Personas,
) -> None:
    emergency = _emergency(personas)
    behind = _normal_walk_in(personas)
    forecast = clinic_forecasts(
        clinic_id=personas.clinic.pk, day=emergency.day, now=timezone.now()
    )[emergency.queue_id]
    assert emergency.pk not in forecast.waits
    assert forecast.waits[behind.pk] == 15
    with pytest.raises(services.FlowRefusedError, match="never told a wait"):
        services.queue_entry_tell_wait(
            context=SYSTEM_CONTEXT, user=personas.front_desk, entry=emergency, minutes=10
        )


def test_the_alert_shows_on_every_page_of_nurses_and_physicians_and_on_the_board(
    personas: Personas,
) -> None:
    entry = _emergency(personas)
    for user in (personas.nurse, personas.physician):
        client = login_client(Client(), user)
        for url in ("/patients/", "/"):
            text = _page(client, url)
            assert 'id="emergency-banner"' in text and 'role="alert"' in text
            assert f"Emergency at the desk · ticket {entry.ticket}" in text
            assert REASON in text and "Not yet acknowledged" in text and ACKNOWLEDGE in text
            assert "flow/emergency.js" in text
            assert 'data-sound="1"' in text and "Click to enable sound" in text
        board = _page(client, "/flow/board/")
        assert f'data-emergency-alert="{EmergencyAlert.objects.get().pk}"' in board
        card = board[board.index(f'data-ticket="{entry.ticket}"') :].split("</li>")[0]
        assert "Clinician alerted: seen now, no wait" in card and "seen in about" not in card
    for user in (personas.billing, personas.admin):
        assert 'id="emergency-banner"' not in _page(login_client(Client(), user), "/")
    # Another clinic's desk has the banner, without this clinic's emergency.
    elsewhere = _page(login_client(Client(), personas.outsider), "/")
    assert 'id="emergency-banner"' in elsewhere and "data-emergency-alert=" not in elsewhere


def test_the_desk_sees_the_alert_and_the_emergency_playbook_but_cannot_acknowledge(
    personas: Personas,
) -> None:
    _emergency(personas)
    desk = login_client(Client(), personas.front_desk)
    text = _page(desk, "/flow/")
    assert "Emergency at the desk · ticket W-001" in text
    assert "Clinician alerted: give the patient no waiting time." in text
    assert '<details class="playbook panel" data-playbook="emergency" open>' in text
    assert "Never tell the patient a waiting time." in text
    assert ACKNOWLEDGE not in text and 'data-sound=""' in text
    alert = EmergencyAlert.objects.get()
    for user in (personas.front_desk, personas.supervisor, personas.billing, personas.admin):
        response = login_client(Client(), user).post(
            f"/flow/emergency/{alert.pk}/acknowledge/", {"next": "/"}
        )
        assert response.status_code == 403, user.role
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_only_a_nurse_or_a_physician_may_acknowledge(personas: Personas) -> None:
    allowed = {r for r in Role if role_may(r, Action.FLOW_EMERGENCY_ACKNOWLEDGE)}
    assert allowed == {Role.NURSE, Role.PHYSICIAN}
    alert = EmergencyAlert.objects.get(entry=_emergency(personas))
    for user in (personas.front_desk, personas.supervisor, personas.billing, personas.admin):
        with pytest.raises(EmergencyRefusedError, match="Only a nurse or a physician"):
            emergency_alert_acknowledge(context=SYSTEM_CONTEXT, user=user, alert=alert)
    outsider = personas.outsider
    outsider.role = Role.NURSE
    with pytest.raises(EmergencyRefusedError, match="not at your clinic"):
        emergency_alert_acknowledge(context=SYSTEM_CONTEXT, user=outsider, alert=alert)
    assert EmergencyAlert.objects.get().acknowledged_at is None


def test_acknowledging_clears_the_alert_everywhere_and_is_audited(
    personas: Personas, frozen: time_machine.Traveller
) -> None:
    entry = _emergency(personas)
    alert = EmergencyAlert.objects.get()
    frozen.shift(dt.timedelta(seconds=50))
    nurse = login_client(Client(), personas.nurse)
    response = nurse.post(f"/flow/emergency/{alert.pk}/acknowledge/", {"next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    alert.refresh_from_db()
    assert alert.acknowledged_by == personas.nurse and alert.acknowledged_at == timezone.now()
    event = AuditEvent.objects.filter(object_type="emergency_alert").latest("seq")
    assert event.action == AuditAction.UPDATE and event.actor_username == "nora"
    assert event.detail["acknowledged_by"] == "nora" and event.patient_ids == [entry.patient_id]

    for user in (personas.nurse, personas.physician):
        client = login_client(Client(), user)
        for url in ("/patients/", "/flow/board/"):
            text = _page(client, url)
            assert "data-emergency-alert=" not in text and ACKNOWLEDGE not in text
    desk = _page(login_client(Client(), personas.front_desk), "/patients/")
    assert "data-emergency-alert=" not in desk
    assert "Emergency W-001: <strong>Nora</strong> acknowledged at 10:00 and is going." in desk
    # A second clinician pressing the button a moment later is told who went.
    physician = login_client(Client(), personas.physician)
    physician.post(f"/flow/emergency/{alert.pk}/acknowledge/", {"next": "https://evil.test/"})
    assert "Nora already acknowledged this emergency at 10:00." in _page(physician, "/")
    assert AuditEvent.objects.filter(object_type="emergency_alert").count() == 2


def test_a_clinician_calling_the_emergency_acknowledges_it(personas: Personas) -> None:
    entry = _emergency(personas)
    services.queue_entry_move(
        context=SYSTEM_CONTEXT, user=personas.physician, entry=entry, to=FlowStatus.CALLED
    )
    assert EmergencyAlert.objects.get().acknowledged_by == personas.physician


def test_a_desk_move_does_not_acknowledge_the_emergency(personas: Personas) -> None:
    entry = _emergency(personas)
    services.queue_entry_move(
        context=SYSTEM_CONTEXT, user=personas.front_desk, entry=entry, to=FlowStatus.CALLED
    )
    assert EmergencyAlert.objects.get().acknowledged_at is None


def test_an_alert_nobody_acknowledged_in_two_minutes_is_escalated_to_the_supervisor_once(
    personas: Personas, frozen: time_machine.Traveller
) -> None:
    entry = _emergency(personas)
    frozen.shift(dt.timedelta(minutes=1, seconds=59))
    assert emergency_alerts_escalate(context=SYSTEM_CONTEXT, now=timezone.now()) == 0
    assert not SupervisorNotice.objects.exists()
    frozen.shift(dt.timedelta(seconds=1))
    tasks.emergency_alerts_escalate_task()
    notice = SupervisorNotice.objects.get()
    assert entry.ticket in notice.text and "no nurse or physician has acknowledged" in notice.text
    assert "Inman" not in notice.text and notice.patient is None
    assert EmergencyAlert.objects.get().escalated_at == timezone.now()
    frozen.shift(dt.timedelta(minutes=1))
    assert emergency_alerts_escalate(context=SYSTEM_CONTEXT, now=timezone.now()) == 0
    assert SupervisorNotice.objects.count() == 1
    event = AuditEvent.objects.filter(object_type="emergency_alert").latest("seq")
    assert event.action == AuditAction.SYSTEM and event.detail["escalated_after_minutes"] == 2

    nurse = _page(login_client(Client(), personas.nurse))
    assert "Escalated to the supervisor" in nurse and ACKNOWLEDGE in nurse
    supervisor = _page(login_client(Client(), personas.supervisor), "/")
    assert "Escalated to the supervisor" in supervisor and 'data-sound="1"' in supervisor
    assert "Send a clinician to the desk now." in supervisor  # the notice on the start page


def test_an_acknowledged_alert_is_not_escalated(
    personas: Personas, frozen: time_machine.Traveller
) -> None:
    _emergency(personas)
    emergency_alert_acknowledge(
        context=SYSTEM_CONTEXT, user=personas.nurse, alert=EmergencyAlert.objects.get()
    )
    frozen.shift(dt.timedelta(minutes=5))
    assert emergency_alerts_escalate(context=SYSTEM_CONTEXT, now=timezone.now()) == 0
    assert not SupervisorNotice.objects.exists()


def test_the_escalation_waits_as_long_as_the_setting_says(
    personas: Personas, frozen: time_machine.Traveller, settings: object
) -> None:
    settings.EMERGENCY_ESCALATE_MINUTES = 5  # type: ignore[attr-defined]
    _emergency(personas)
    frozen.shift(dt.timedelta(minutes=4))
    assert emergency_alerts_escalate(context=SYSTEM_CONTEXT, now=timezone.now()) == 0
    frozen.shift(dt.timedelta(minutes=1))
    assert emergency_alerts_escalate(context=SYSTEM_CONTEXT, now=timezone.now()) == 1


def _banner(user: object) -> str:
    request = RequestFactory().get("/patients/")
    request.user = user  # type: ignore[assignment]
    return Template("{% load emergency %}{% emergency_banner %}").render(
        Context({"request": request})
    )


def test_the_banner_costs_one_query_however_many_alerts_and_none_for_other_roles(
    personas: Personas,
) -> None:
    _emergency(personas)
    with CaptureQueriesContext(connection) as one:
        assert "W-001" in _banner(personas.nurse)
    for name in ("Ann", "Ben", "Cy"):
        _emergency(personas, given_name=name)
    with CaptureQueriesContext(connection) as four:
        html = _banner(personas.nurse)
    assert html.count("data-emergency-alert=") == 4
    assert len(one) == len(four) == 1
    with CaptureQueriesContext(connection) as none:
        assert _banner(personas.billing) == ""
    assert len(none) == 0


def test_the_banner_poll_answers_204_until_the_alerts_change(personas: Personas) -> None:
    nurse = login_client(Client(), personas.nurse)
    assert nurse.get("/flow/emergency/?since=").status_code == 204
    _emergency(personas)
    changed = nurse.get("/flow/emergency/?since=&next=/patients/")
    assert changed.status_code == 200
    text = changed.content.decode()
    assert ACKNOWLEDGE in text and 'name="next" value="/patients/"' in text
    state = f"{EmergencyAlert.objects.get().pk}o"
    assert f'data-state="{state}"' in text
    assert nurse.get(f"/flow/emergency/?since={state}").status_code == 204


def test_the_database_keeps_one_open_alert_per_entry(personas: Personas) -> None:
    alert = EmergencyAlert.objects.get(entry=_emergency(personas))
    with pytest.raises(IntegrityError), transaction.atomic():
        EmergencyAlert.objects.create(
            clinic=personas.clinic, entry=alert.entry, raised_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        EmergencyAlert.objects.filter(pk=alert.pk).update(acknowledged_at=timezone.now())


def test_the_waiting_room_screen_lists_no_emergency_beside_a_wait(personas: Personas) -> None:
    _normal_walk_in(personas)
    emergency = _emergency(personas)
    screen = display.display_create(context=SYSTEM_CONTEXT, clinic=personas.clinic, name="TV")
    view = display.display_page(screen, now=timezone.now())
    (line,) = view.lines
    assert emergency.ticket not in line.waiting_tickets and line.waiting_tickets == ["W-001"]


def test_the_waiting_room_screen_never_says_no_one_waits_while_an_emergency_does(
    personas: Personas,
) -> None:
    emergency = _emergency(personas)
    screen = display.display_create(context=SYSTEM_CONTEXT, clinic=personas.clinic, name="TV")
    (line,) = display.display_page(screen, now=timezone.now()).lines
    assert line.waiting_tickets == [] and line.emergency_waiting
    page = Client().get(f"/flow/display/?token={display.display_token(screen)}")
    assert page.status_code == 200
    assert b"No one waiting" not in page.content
    assert emergency.ticket.encode() not in page.content
