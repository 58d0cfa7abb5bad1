"""Undoing a merge gives the restored patient back the visit money written while merged."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.billing.selectors import patient_balance
from frontdesk.flow.tests.conftest import MakeAppointment
from frontdesk.patients.merging import patient_merge, patient_unmerge
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment


def _visit_entry(
    appointment: Appointment, kind: str, amount: str, *, method: str = "", copay: bool = False
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        clinic_id=appointment.clinic_id,
        patient_id=appointment.patient_id,
        appointment=appointment,
        kind=kind,
        amount=Decimal(amount),
        description="Visit co-pay" if copay else "Payment at check-in",
        method=method,
        is_copay=copay,
        created_at=timezone.now(),
    )


def test_a_co_pay_and_payment_taken_while_merged_go_back_with_the_visit_when_the_merge_is_undone(
    personas: Personas, patient: Patient, make_appointment: MakeAppointment
) -> None:
    survivor = make_patient(personas.clinic, given_name="Jon")
    survivor_charge = LedgerEntry.objects.create(
        clinic_id=survivor.clinic_id,
        patient=survivor,
        kind=EntryKind.CHARGE,
        amount=Decimal("7.00"),
        description="Forms fee",
        created_at=timezone.now(),
    )
    visit = make_appointment(patient)
    merge = patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=survivor,
        merged=patient,
        take_from_merged=set(),
    )
    visit.refresh_from_db()
    assert visit.patient_id == survivor.pk
    # While merged, the visit is checked in on the survivor's record and paid in part.
    copay = _visit_entry(visit, EntryKind.CHARGE, "25.00", copay=True)
    payment = _visit_entry(visit, EntryKind.PAYMENT, "20.00", method="card")
    assert patient_balance(survivor.pk) == Decimal("12.00")

    patient_unmerge(context=SYSTEM_CONTEXT, user=personas.supervisor, merge=merge)

    visit.refresh_from_db()
    assert visit.patient_id == patient.pk
    assert set(LedgerEntry.objects.filter(patient=patient)) == {copay, payment}
    assert list(LedgerEntry.objects.filter(patient=survivor)) == [survivor_charge]
    assert patient_balance(patient.pk) == Decimal("5.00")
    assert patient_balance(survivor.pk) == Decimal("7.00")
