from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import Personas, make_patient
from frontdesk.clinic.models import AppointmentType
from frontdesk.demo.eligibility_morning import demo_eligibility_morning
from frontdesk.eligibility.models import EligibilityConnection, EstimateIdentity, VisitFee
from frontdesk.eligibility.simulator import Table
from frontdesk.patients.models import Coverage, Payer

pytestmark = pytest.mark.django_db


def test_the_demo_clinic_talks_to_the_simulator_whose_table_holds_its_members(
    personas: Personas, tmp_path: Path
) -> None:
    payer = Payer.objects.create(clinic=personas.clinic, name="Demo Health")
    for index in range(20):
        patient = make_patient(personas.clinic, given_name=f"Pat{index}")
        Coverage.objects.create(
            patient=patient, payer=payer, rank=1, member_id=f"D{index:05d}", copay="30.00"
        )

    members = demo_eligibility_morning(clinic=personas.clinic, var_dir=tmp_path)

    connection = EligibilityConnection.objects.get(clinic=personas.clinic)
    assert connection.is_simulator and "simulator" in str(connection)
    table = Table.load(tmp_path / "payer-simulator.json")
    assert members == len(table.members) == 19  # one member the payer cannot find
    rows = json.loads((tmp_path / "payer-simulator.json").read_text())["members"]
    assert {row["copay"] for row in rows} == {"30.00", "40.00"}  # some cards out of date
    assert any(not row["active"] for row in rows)


def test_the_demo_clinic_has_a_fee_schedule_for_its_estimates(
    personas: Personas, tmp_path: Path
) -> None:
    follow_up = AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )
    AppointmentType.objects.create(clinic=personas.clinic, name="Home visit", duration_minutes=20)

    demo_eligibility_morning(clinic=personas.clinic, var_dir=tmp_path)
    demo_eligibility_morning(clinic=personas.clinic, var_dir=tmp_path)  # again: no duplicates

    fees = list(VisitFee.objects.all())
    assert [(f.appointment_type_id, f.amount, f.service_code) for f in fees] == [
        (follow_up.pk, Decimal("120.00"), "99213")
    ]
    identity = EstimateIdentity.objects.get(clinic=personas.clinic)
    assert identity.facility_npi and identity.tin
