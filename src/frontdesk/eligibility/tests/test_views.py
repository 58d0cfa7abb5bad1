"""The desk's pages: check-in shows the payer's answer, "verify now" never blocks, the raw
271 is for billing and supervisors only, audited, and another clinic's check is a 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.clinic.models import AppointmentType
from frontdesk.eligibility import queueing, sending
from frontdesk.eligibility.models import (
    AppointmentTypeServices,
    CheckReason,
    EligibilityCheck,
    EligibilityConnection,
    VerifyLater,
    VisitFee,
)
from frontdesk.eligibility.simulator import Simulator
from frontdesk.eligibility.tests.conftest import NOW, MakeAppointment, MakeCoverage
from frontdesk.flow.selectors import check_in_facts
from frontdesk.patients.models import Coverage, Payer

pytestmark = pytest.mark.django_db

SOON = NOW + dt.timedelta(minutes=10)  # Monday 23:40 in New York: today at the clinic


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_check_in_shows_the_payers_copay_and_the_officer_takes_it_from_the_payer(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    visit_type: AppointmentType,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    AppointmentTypeServices.objects.create(appointment_type=visit_type, codes="98")
    VisitFee.objects.create(appointment_type=visit_type, amount="150.00")
    coverage = make_coverage(copay="20.00")
    visit = make_appointment(coverage.patient, start=SOON)
    sending.eligibility_send_due(now=NOW)
    desk = client_for(personas.front_desk)
    page_url = reverse("flow:check_in", args=[visit.pk])

    page = desk.get(page_url)

    text = page.content.decode()
    assert "Verified today · active · co-pay $25 for an office visit" in text
    assert "payer simulator" in text
    assert "The card says a co-pay of $20.00; the payer says $25.00." in text
    assert "Estimate for this visit (fee $150.00): $25.00 today, about $0.00 later" in text
    check = EligibilityCheck.objects.filter(appointment=visit).get()
    answer = desk.post(
        reverse("eligibility:copay", args=[coverage.pk]), {"check": check.pk, "next": page_url}
    )
    assert answer.status_code == 302 and answer["Location"] == page_url
    coverage.refresh_from_db()
    assert coverage.copay == Decimal("25.00")
    assert check_in_facts(visit, now=NOW).copay == Decimal("25.00")  # pre-filled from the 271
    assert "The card says" not in desk.get(page_url).content.decode()


def test_verify_now_when_the_payer_does_not_answer_says_proceed_and_leaves_a_desk_item(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    simulator: Simulator,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    simulator.control.down = True
    coverage = make_coverage()
    visit = make_appointment(coverage.patient, start=SOON)

    answer = client_for(personas.front_desk).post(
        reverse("eligibility:verify", args=[visit.pk]), HTTP_HX_REQUEST="true"
    )

    assert answer.status_code == 200
    assert (
        "Could not verify today: payer did not answer. Proceed and verify later"
        in answer.content.decode()
    )
    assert VerifyLater.objects.filter(coverage=coverage, closed_at__isnull=True).count() == 1
    assert EligibilityCheck.objects.filter(reason=CheckReason.CHECK_IN).exists()


def test_verify_now_asks_the_payer_and_shows_the_answer(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    coverage = make_coverage(member_id="W200000002", copay=None)
    coverage.patient.birth_date = dt.date(1975, 5, 5)
    coverage.patient.save()
    visit = make_appointment(coverage.patient, start=SOON)

    answer = client_for(personas.front_desk).post(reverse("eligibility:verify", args=[visit.pk]))

    assert "Verified today · not active" in answer.content.decode()


def test_the_raw_271_is_for_billing_and_supervisors_and_each_look_is_audited(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    make_coverage()
    sending.eligibility_send_due(now=NOW)
    check = EligibilityCheck.objects.get()
    url = reverse("eligibility:raw", args=[check.pk])

    assert client_for(personas.front_desk).get(url).status_code == 403
    page = client_for(personas.billing).get(url)

    assert page.status_code == 200
    assert "NM1*IL*1*SMITH*JOHN****MI*W123456789~" in page.content.decode()
    event = AuditEvent.objects.get(object_type="eligibility_response", object_id=str(check.pk))
    assert event.actor_username == "bill" and event.action == "view"


def test_another_clinics_check_and_visit_are_not_found(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    make_coverage()
    sending.eligibility_send_due(now=NOW)
    check = EligibilityCheck.objects.get()
    stranger = make_patient(personas.other_clinic)
    payer = Payer.objects.create(clinic=personas.other_clinic, name="Elsewhere")
    Coverage.objects.create(patient=stranger, payer=payer, rank=1, member_id="X1")
    outsider = client_for(personas.outsider)
    visit = make_appointment(check.patient, start=SOON)

    assert outsider.get(reverse("eligibility:raw", args=[check.pk])).status_code in (403, 404)
    assert outsider.post(reverse("eligibility:verify", args=[visit.pk])).status_code == 404
    assert outsider.get(reverse("eligibility:patient", args=[check.patient_id])).status_code == 404


def test_the_patients_checks_page_lists_outcomes_in_words(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    coverage = make_coverage(member_id="W999999999")
    sending.eligibility_send_due(now=NOW)

    page = client_for(personas.front_desk).get(
        reverse("eligibility:patient", args=[coverage.patient_id])
    )

    assert "Subscriber not found: check the member ID and birth date" in page.content.decode()


def test_the_chart_header_says_what_the_payer_said_and_what_is_left_to_verify(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    simulator: Simulator,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    coverage = make_coverage(member_id="W999999999")
    sending.eligibility_send_due(now=NOW)
    simulator.control.down = True
    queueing.check_request(
        coverage=coverage, date_of_service=NOW.date(), reason=CheckReason.CHECK_IN, now=NOW
    )
    sending.eligibility_send_due(now=NOW)

    chart = (
        client_for(personas.front_desk)
        .get(reverse("patients:chart", args=[coverage.patient_id]))
        .content.decode()
    )
    clinician = (
        client_for(personas.nurse)
        .get(reverse("patients:chart", args=[coverage.patient_id]))
        .content.decode()
    )

    assert "Insurance to verify with the payer" in chart
    assert (
        "Primary insurance refused by the payer: Subscriber not found: check the member ID "
        "and birth date"
    ) in chart
    assert "Insurance to verify" not in clinician  # minimum necessary
