"""The patient's estimate at booking and on the visit, printed; the good-faith estimate of a
self-pay patient filed to the chart; financial assistance offered and recorded."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent, AuditObject
from frontdesk.clinic.models import AppointmentType
from frontdesk.documents.models import Document, DocumentKind
from frontdesk.eligibility.estimates import visit_estimate_for
from frontdesk.eligibility.models import (
    AssistanceDecision,
    CheckReason,
    CheckStatus,
    EligibilityCheck,
    EligibilityConnection,
    EstimateIdentity,
    Outcome,
    VisitFee,
)
from frontdesk.eligibility.sending import eligibility_send_due
from frontdesk.eligibility.tests.conftest import NOW, MakeAppointment, MakeCoverage
from frontdesk.lib.pdf import pdf_text
from frontdesk.patients.models import Coverage
from frontdesk.scheduling.models import Appointment, Schedule

pytestmark = pytest.mark.django_db

SOON = NOW + dt.timedelta(minutes=10)  # Monday 23:40 in New York: today at the clinic
DAY = dt.date(2026, 11, 23)  # the clinic's date of SOON
LATER = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)  # Monday Nov 30, 10:00 in New York


@pytest.fixture(autouse=True)
def frozen(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def fee(visit_type: AppointmentType) -> VisitFee:
    return VisitFee.objects.create(
        appointment_type=visit_type, amount="150.00", service_code="99213"
    )


def _answer(coverage: Coverage, day: dt.date, *, outcome: str = Outcome.ACTIVE) -> None:
    """The payer's answer for `day`, as the worker records it."""
    EligibilityCheck.objects.create(
        clinic=coverage.patient.clinic,
        patient=coverage.patient,
        coverage=coverage,
        date_of_service=day,
        reason=CheckReason.BOOKING,
        status=CheckStatus.ANSWERED,
        trace=f"T{EligibilityCheck.objects.count() + 1}",
        requested_at=NOW,
        next_attempt_at=NOW,
        answered_at=NOW,
        outcome=outcome,
        words="",
        parsed={"benefits": {"30": {"copay": "25.00"}}},
    )


def _read_back(document: Document) -> str:
    """The PDF's text on one line (a word broken at a hyphen joined again)."""
    with default_storage.open(document.file) as stored:
        return re.sub(r"-\s+", "-", " ".join(pdf_text(stored.read()).split()))


def _confirm_page(
    client: Client, patient_id: int, schedule: Schedule, kind: AppointmentType
) -> str:
    page = client.post(
        reverse("scheduling:book", args=[patient_id]),
        {"slot": f"{schedule.pk} {LATER.isoformat()}", "appointment_type": kind.pk},
    )
    assert page.status_code == 200
    return page.content.decode()


def test_the_booking_read_back_shows_the_estimate_from_the_answer_for_that_day(
    fee: VisitFee,
    make_coverage: MakeCoverage,
    schedule: Schedule,
    visit_type: AppointmentType,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    coverage = make_coverage()
    _answer(coverage, dt.date(2026, 11, 30))

    html = _confirm_page(client_for(personas.front_desk), coverage.patient_id, schedule, visit_type)

    assert "Estimate: $25.00 today (co-pay), $0.00 later" in html


def test_an_answer_for_another_day_is_not_an_estimate_for_this_one(
    fee: VisitFee,
    make_coverage: MakeCoverage,
    schedule: Schedule,
    visit_type: AppointmentType,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    coverage = make_coverage()
    _answer(coverage, DAY)

    html = _confirm_page(client_for(personas.front_desk), coverage.patient_id, schedule, visit_type)

    assert "Coverage not verified for Mon Nov 30: no estimate until the payer answers." in html
    assert "Estimate: $" not in html


def test_a_patient_without_insurance_is_told_the_self_pay_estimate_at_booking(
    fee: VisitFee,
    schedule: Schedule,
    visit_type: AppointmentType,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    patient = make_patient(personas.clinic)

    html = _confirm_page(client_for(personas.front_desk), patient.pk, schedule, visit_type)

    assert "Estimate: $150.00 today (self-pay), $0.00 later" in html
    assert "offer financial assistance" in html


def test_the_visit_shows_the_payers_estimate_and_prints_it(
    connection: EligibilityConnection,
    fee: VisitFee,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    coverage = make_coverage()
    visit = make_appointment(coverage.patient, start=SOON)  # booking asks the payer
    eligibility_send_due(now=NOW)
    desk = client_for(personas.front_desk)

    page = desk.get(reverse("scheduling:appointment", args=[visit.pk])).content.decode()

    assert "Estimate: $25.00 today (co-pay), $0.00 later" in page and "payer simulator" in page
    response = desk.get(reverse("eligibility:estimate_pdf", args=[visit.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Estimate: $25.00 today (co-pay), $0.00 later" in text
    assert "John Smith" in text and "Office visit" in text and "PAYER SIMULATOR" in text
    event = AuditEvent.objects.get(object_type=AuditObject.VISIT_ESTIMATE)
    assert event.action == AuditAction.PRINT and list(event.patient_ids) == [visit.patient_id]


def test_clinicians_see_no_estimate_and_cannot_print_one(
    fee: VisitFee,
    make_appointment: MakeAppointment,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    visit = make_appointment(make_patient(personas.clinic), start=SOON)
    nurse = client_for(personas.nurse)

    page = nurse.get(reverse("scheduling:appointment", args=[visit.pk]))
    assert page.status_code == 200 and "data-estimate" not in page.content.decode()
    assert nurse.get(reverse("eligibility:estimate_pdf", args=[visit.pk])).status_code == 403
    assert nurse.get(reverse("eligibility:assistance", args=[visit.pk])).status_code == 403
    outsider = client_for(personas.outsider)
    assert outsider.get(reverse("eligibility:estimate_pdf", args=[visit.pk])).status_code == 404


def _self_pay_visit(personas: Personas, make_appointment: MakeAppointment) -> Appointment:
    EstimateIdentity.objects.create(
        clinic=personas.clinic, facility_npi="1234567893", tin="12-3456789"
    )
    visit = make_appointment(make_patient(personas.clinic), start=LATER)
    visit.provider.npi = "1245319599"
    visit.provider.save()
    return visit


def test_a_self_pay_patient_gets_a_good_faith_estimate_filed_to_the_chart(
    fee: VisitFee,
    make_appointment: MakeAppointment,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    visit = _self_pay_visit(personas, make_appointment)
    desk = client_for(personas.front_desk)

    answer = desk.post(reverse("eligibility:good_faith_estimate", args=[visit.pk]))

    document = Document.objects.get(patient=visit.patient)
    assert answer.status_code == 302 and answer["Location"] == f"/documents/{document.pk}/"
    assert document.kind == DocumentKind.CORRESPONDENCE
    assert document.title == "Good-faith estimate for the visit of Nov 30, 2026"
    text = _read_back(document)
    for expected in [
        "Good Faith Estimate",
        "John Smith",
        "January 2, 1980",  # date of birth
        "Office visit",
        "Monday, November 30, 2026 at 10:00",  # the date scheduled, clinic time
        "99213",
        "$150.00",
        "Riverside Family Clinic",
        "1234567893",  # facility NPI
        "1245319599",  # provider NPI
        "12-3456789",  # TIN
        "This is an estimate only",
        "$400 or more above this estimate",
        "patient-provider dispute resolution",
        "is not a contract",
        "save a copy",
    ]:
        assert expected in text, expected
    event = AuditEvent.objects.get(object_type=AuditObject.GOOD_FAITH_ESTIMATE)
    assert event.action == AuditAction.CREATE and event.object_id == str(document.pk)


def test_a_patient_the_payer_confirmed_gets_the_estimate_not_a_good_faith_estimate(
    fee: VisitFee,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    coverage = make_coverage()
    visit = make_appointment(coverage.patient, start=LATER)
    _answer(coverage, dt.date(2026, 11, 30))
    desk = client_for(personas.front_desk)

    answer = desk.post(reverse("eligibility:good_faith_estimate", args=[visit.pk]), follow=True)

    assert "print the estimate instead" in answer.content.decode()
    assert not Document.objects.exists()


def test_a_coverage_the_payer_says_is_not_active_makes_the_patient_self_pay(
    fee: VisitFee,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    coverage = make_coverage()
    visit = make_appointment(coverage.patient, start=LATER)
    _answer(coverage, dt.date(2026, 11, 30), outcome=Outcome.INACTIVE)

    page = client_for(personas.front_desk).get(reverse("scheduling:appointment", args=[visit.pk]))

    html = page.content.decode()
    assert "The payer says the coverage is not active for Mon Nov 30." in html
    assert "Estimate: $150.00 today (self-pay), $0.00 later" in html
    assert "Give the good-faith estimate" in html


def test_assistance_applied_puts_the_band_on_the_estimate_and_the_good_faith_estimate(
    fee: VisitFee,
    make_appointment: MakeAppointment,
    personas: Personas,
    client_for: Callable[[User], Client],
) -> None:
    visit = _self_pay_visit(personas, make_appointment)
    desk = client_for(personas.front_desk)
    url = reverse("eligibility:assistance", args=[visit.pk])
    form = desk.get(url).content.decode()
    assert "2025 HHS poverty guidelines" in form and "up to 100 %" in form

    answer = desk.post(url, {"outcome": "applied", "household_size": "3", "income": "40,000"})

    assert answer.status_code == 302
    decision = AssistanceDecision.objects.get()
    # 40,000 of 26,650 (15,650 + 2 x 5,500) is 150.1 %: pays half of 150.00.
    assert decision.percent_of_guideline == Decimal("150.1")
    assert decision.discounted_fee == Decimal("75.00")
    assert decision.band == "134 to 166 % of the poverty guideline: pays 50 % of the fee"
    assert decision.guideline_year == 2025 and decision.recorded_by == personas.front_desk
    event = AuditEvent.objects.get(
        object_type=AuditObject.FINANCIAL_ASSISTANCE, action=AuditAction.CREATE
    )
    assert event.detail["outcome"] == "applied"
    page = desk.get(reverse("scheduling:appointment", args=[visit.pk])).content.decode()
    assert "Estimate: $75.00 today (self-pay, sliding fee), $0.00 later" in page
    desk.post(reverse("eligibility:good_faith_estimate", args=[visit.pk]))
    text = _read_back(Document.objects.get())
    assert "sliding-fee discount" in text and "-$75.00" in text.replace("−", "-")
    assert "Total estimated charges $75.00" in text


def test_a_declined_offer_is_recorded_without_household_or_income(
    make_appointment: MakeAppointment, personas: Personas, client_for: Callable[[User], Client]
) -> None:
    visit = make_appointment(make_patient(personas.clinic), start=LATER)

    answer = client_for(personas.front_desk).post(
        reverse("eligibility:assistance", args=[visit.pk]), {"outcome": "declined"}
    )

    assert answer.status_code == 302
    decision = AssistanceDecision.objects.get()
    assert decision.outcome == "declined" and decision.band == "" and decision.income is None


@pytest.mark.parametrize(
    ("household", "income", "message"),
    [
        ("3", "12,50", "Use a point for cents, like 12.50."),
        ("3", "1e3", "Type the amount in numbers, like 25.00."),
        ("3", "-5", "cannot be negative"),
        ("0", "20000", "A household is 1 to 20 people"),
        ("40", "20000", "A household is 1 to 20 people"),
        ("-2", "20000", "The household cannot be negative."),
        ("1e3", "20000", "Type how many people, like 3."),
        ("", "", "Type how many people are in the household."),
    ],
)
def test_bad_household_or_income_is_explained_and_what_was_typed_is_kept(
    fee: VisitFee,
    make_appointment: MakeAppointment,
    personas: Personas,
    client_for: Callable[[User], Client],
    household: str,
    income: str,
    message: str,
) -> None:
    visit = make_appointment(make_patient(personas.clinic), start=LATER)

    answer = client_for(personas.front_desk).post(
        reverse("eligibility:assistance", args=[visit.pk]),
        {"outcome": "applied", "household_size": household, "income": income},
    )

    assert answer.status_code == 400
    html = answer.content.decode()
    assert message in html
    if household:
        assert f'value="{household}"' in html
    if income:
        assert f'value="{income}"' in html
    assert not AssistanceDecision.objects.exists()


def test_without_a_copay_the_estimate_is_billed_later_after_the_claim(
    fee: VisitFee, make_coverage: MakeCoverage, visit_type: AppointmentType
) -> None:
    coverage = make_coverage()
    _answer(coverage, DAY)
    EligibilityCheck.objects.update(
        parsed={"benefits": {"30": {"coinsurance": "0.2", "deductible_remaining": "100.00"}}}
    )

    found = visit_estimate_for(patient=coverage.patient, kind=visit_type, day=DAY)

    assert found.line == (
        "Estimate: $0.00 today (deductible and coinsurance, billed after the claim), $110.00 later"
    )
    assert found.verified and not found.self_pay


def test_without_a_fee_for_the_type_the_desk_is_told_there_is_no_estimate(
    make_coverage: MakeCoverage, visit_type: AppointmentType
) -> None:
    coverage = make_coverage()
    _answer(coverage, DAY)

    found = visit_estimate_for(patient=coverage.patient, kind=visit_type, day=DAY)

    assert found.line == "No fee is set for Office visit: no estimate." and found.estimate is None
