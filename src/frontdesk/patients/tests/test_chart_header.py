"""The chart's header: what the desk needs at a glance, at the top of the record."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.tests.conftest import coverage_with_copay
from frontdesk.flow.models import IncompleteRegistration
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.patients.models import Patient

pytestmark = pytest.mark.usefixtures("frozen")


def _header(html: str) -> str:
    found = re.search(r'<section class="chart-summary".*?</section>', html, re.S)
    assert found, "the chart has no header summary"
    return found.group(0)


def _owing(patient: Patient, amount: str) -> None:
    LedgerEntry.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=EntryKind.CHARGE,
        amount=Decimal(amount),
        description="Visit of last month",
        created_at=timezone.now() - dt.timedelta(days=30),
    )


def _chart(client: Client, patient: Patient) -> str:
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_header_shows_balance_next_visit_copay_and_a_book_button(
    personas: Personas,
    client_for: Callable[[User], Client],
    make_appointment: MakeAppointment,
) -> None:
    patient = make_patient(personas.clinic, address_confirmed_on=dt.date(2026, 10, 1))
    _owing(patient, "40.50")
    coverage_with_copay(personas, patient, "25.00")
    # Tomorrow 09:30 in New York; an earlier, cancelled visit does not count.
    make_appointment(patient, start=dt.datetime(2026, 11, 24, 14, 30, tzinfo=dt.UTC))
    make_appointment(
        patient, start=dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC), status="cancelled"
    )
    header = _header(_chart(client_for(personas.front_desk), patient))
    assert "Balance due $40.50" in header
    assert "Tue Nov 24, 2026 09:30" in header and "Mei Lee, MD" in header
    assert "Co-pay" in header and "$25.00" in header
    assert f'href="/schedule/patients/{patient.pk}/find/"' in header and ">Book<" in header
    assert "Follow-up visit" not in header  # the visit's type is on the list below, not here


def test_the_header_says_when_nothing_is_owed_or_booked(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    patient = make_patient(personas.clinic, address_confirmed_on=dt.date(2026, 10, 1))
    header = _header(_chart(client_for(personas.front_desk), patient))
    assert "Nothing owed" in header
    assert "No visit booked" in header
    assert "Self-pay" in header


def test_a_role_without_billing_view_sees_no_balance_in_the_header(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    patient = make_patient(personas.clinic)
    _owing(patient, "40.50")
    html = _chart(client_for(personas.nurse), patient)
    assert "40.50" not in html
    assert "Balance" not in _header(html) and "owed" not in _header(html)
    assert ">Book<" not in _header(html)  # nurses do not book (APPOINTMENT_BOOK)


def test_the_header_shows_the_charts_alerts(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    patient = make_patient(
        personas.clinic, alerts=["fall_risk"], alert_note="Prefers morning visits"
    )
    IncompleteRegistration.objects.create(patient=patient, registered_at=timezone.now())
    header = _header(_chart(client_for(personas.front_desk), patient))
    assert "Registration incomplete" in header
    assert "Address never confirmed" in header
    assert "Prefers morning visits" in header
    assert "Restricted" not in header


def test_a_stale_address_is_flagged_and_a_completed_registration_is_not(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    patient = make_patient(personas.clinic, address_confirmed_on=dt.date(2024, 5, 2))
    IncompleteRegistration.objects.create(
        patient=patient, registered_at=timezone.now(), completed_at=timezone.now()
    )
    header = _header(_chart(client_for(personas.front_desk), patient))
    assert "Address last confirmed May 2, 2024" in header
    assert "Registration incomplete" not in header


def test_the_header_flags_a_restricted_record(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    secret = make_patient(personas.clinic, confidentiality="restricted")
    client = client_for(personas.front_desk)
    client.post(f"/patients/{secret.pk}/break-glass/", {"reason": "checking in for a visit"})
    header = _header(_chart(client, secret))
    assert "Restricted record" in header


def test_the_header_costs_the_same_queries_whatever_it_shows(
    personas: Personas,
    client_for: Callable[[User], Client],
    make_appointment: MakeAppointment,
) -> None:
    patient = make_patient(personas.clinic)
    client = client_for(personas.front_desk)
    _chart(client, patient)  # warm up: the session and the audit chain's head
    with CaptureQueriesContext(connection) as bare:
        _chart(client, patient)
    _owing(patient, "40.50")
    coverage_with_copay(personas, patient, "25.00")
    IncompleteRegistration.objects.create(patient=patient, registered_at=timezone.now())
    for days in (1, 2, 3):
        make_appointment(patient, start=timezone.now() + dt.timedelta(days=days))
    with CaptureQueriesContext(connection) as full:
        _chart(client, patient)
    assert len(full) == len(bare)


def test_the_chart_is_still_one_audited_view(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    patient = make_patient(personas.clinic)
    _owing(patient, "40.50")
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    _chart(client_for(personas.front_desk), patient)
    events = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk"))
    assert [(e.action, e.object_type) for e in events] == [(AuditAction.VIEW, "patient")]
