from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing.models import CashDrawer, DrawerCloseOut, DrawerStatus
from frontdesk.billing.services import account_payment_record
from frontdesk.clinic.models import Location
from frontdesk.flow.demo import flow_demo_drawers, flow_demo_today
from frontdesk.flow.models import EmergencyAlert, FlowStatus, QueueEntry, QueueEvent
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.scheduling.models import AppointmentStatus

pytestmark = pytest.mark.usefixtures("frozen")


def test_the_demo_day_has_patients_in_every_state_and_is_built_once(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    now = timezone.now()
    for minutes in (-120, -90, -60):
        make_appointment(start=now + dt.timedelta(minutes=minutes), status="fulfilled")
    for minutes in (-40, -30, -20, -10, 0):
        make_appointment(start=now + dt.timedelta(minutes=minutes), status="checked-in")
    make_appointment(start=now + dt.timedelta(minutes=10), status="arrived")
    make_appointment(start=now + dt.timedelta(hours=3))  # not yet: stays out of the queue

    outcome = flow_demo_today(clinic=personas.clinic, now=now)
    assert outcome.by_status == {
        "done": 3,
        "with_provider": 1,
        "in_room": 1,
        "called": 2,  # one booked and the walk-in emergency, called by the demo's nurse
        "left": 1,
        "waiting": 2,
    }
    emergency = QueueEntry.objects.get(priority="emergency", status="called")
    alert = EmergencyAlert.objects.get(entry=emergency)
    assert alert.acknowledged_by == personas.nurse
    assert alert.acknowledged_at == emergency.checked_in_at + dt.timedelta(minutes=1)
    for entry in QueueEntry.objects.all():
        steps = list(QueueEvent.objects.filter(entry=entry).values_list("to_status", flat=True))
        assert steps[0] == FlowStatus.WAITING and steps[-1] == entry.status
    assert not QueueEntry.objects.filter(appointment__status=AppointmentStatus.ARRIVED).exists()
    assert flow_demo_today(clinic=personas.clinic, now=now).entries == 0

    board = login_client(Client(), personas.nurse).get("/flow/board/").content.decode()
    assert "A-001" in board and "Acknowledge: I am going" not in board
    card = board[board.index(f'data-ticket="{emergency.ticket}"') :].split("</li>")[0]
    assert "Emergency" in card and "seen in about" not in card
    desk = login_client(Client(), personas.front_desk).get("/flow/").content.decode()
    assert f"Emergency {emergency.ticket}: <strong>" in desk and "acknowledged at" in desk


def test_the_demo_emergency_stays_open_for_a_clinic_without_a_nurse(
    personas: Personas, make_appointment: MakeAppointment
) -> None:
    personas.nurse.is_active = False
    personas.nurse.save(update_fields=["is_active"])
    make_appointment(start=timezone.now() - dt.timedelta(minutes=10), status="checked-in")

    flow_demo_today(clinic=personas.clinic, now=timezone.now())

    emergency = QueueEntry.objects.get(priority="emergency", status="waiting")
    assert EmergencyAlert.objects.get(entry=emergency, acknowledged_at=None)


def test_the_command_names_the_clinic_when_there_are_several(personas: Personas) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Name the clinic with --clinic"):
        call_command("flow-demo", stdout=io.StringIO())
    make_patient(personas.clinic)
    out = io.StringIO()
    call_command("flow-demo", "--clinic", personas.clinic.name, stdout=out)
    assert "today's queue exists already (or no visits yet)" in out.getvalue()


def test_the_command_prints_the_screens_link_whole_given_the_servers_address(
    personas: Personas,
) -> None:
    out = io.StringIO()
    call_command(
        "flow-demo",
        "--clinic",
        personas.clinic.name,
        "--base-url",
        "http://127.0.0.1:8000/",
        stdout=out,
    )
    assert "Waiting-room screen: http://127.0.0.1:8000/flow/display/?token=" in out.getvalue()


def test_the_demo_opens_todays_drawer_for_everyone_who_takes_payments_and_closes_yesterdays(
    personas: Personas, frozen: time_machine.Traveller
) -> None:
    Location.objects.create(clinic=personas.clinic, name="Main desk")
    patient = make_patient(personas.clinic)
    yesterday = timezone.now() - dt.timedelta(days=1)
    assert flow_demo_drawers(clinic=personas.clinic, now=yesterday) == 3
    # The first time, a drawer of the day before, closed short, for the supervisor to review.
    short = DrawerCloseOut.objects.get()
    assert short.variance == Decimal("-10.00") and short.beyond_tolerance and short.reason
    with time_machine.travel(yesterday, tick=False):
        account_payment_record(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            patient=patient,
            amount=Decimal("37.41"),
            method="cash",
        )
    assert flow_demo_drawers(clinic=personas.clinic, now=timezone.now()) == 3
    assert flow_demo_drawers(clinic=personas.clinic, now=timezone.now()) == 0
    open_now = CashDrawer.objects.filter(status=DrawerStatus.OPEN)
    assert {d.officer.role for d in open_now} == {"front_desk", "billing", "supervisor"}
    assert {d.business_day for d in open_now} == {timezone.localdate(timezone.now())}
    # Yesterday's desk drawer was counted as expected: float and the cash taken, balanced.
    counted = DrawerCloseOut.objects.exclude(pk=short.pk).get(drawer__officer=personas.front_desk)
    assert counted.counted_cash == Decimal("187.41") and counted.variance == 0
    assert DrawerCloseOut.objects.filter(beyond_tolerance=True).count() == 1
    # The demo's officers can take a payment at once.
    account_payment_record(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        amount=Decimal("20.00"),
        method="card",
    )
