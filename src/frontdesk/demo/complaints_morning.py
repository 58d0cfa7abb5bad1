"""The demo clinic's complaints and supplies, so the desk queue has them on `make run`: one
complaint resolved at the desk this morning, a billing grievance waiting for acknowledgement,
a clinical-care grievance acknowledged and due its written response, a privacy complaint with
its review, and a supplies list with two items below par."""

from __future__ import annotations

import datetime as dt

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.services import AuditContext
from frontdesk.clinic.models import Clinic
from frontdesk.complaints.models import Category
from frontdesk.complaints.services import complaint_acknowledge, complaint_log
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Patient
from frontdesk.supplies.services import supply_item_save

# (name, unit, par level, on hand, supplier): the first two are below par.
SUPPLIES = (
    ("Printer paper", "ream", 10, 3, "Office Depot"),
    ("Nitrile gloves, medium", "box of 100", 8, 2, "Henry Schein"),
    ("Hand sanitiser", "bottle", 6, 9, "Henry Schein"),
    ("Clipboards", "each", 12, 14, "Staples"),
    ("Pens", "box of 12", 4, 6, "Staples"),
    ("Visitor badges", "pack of 50", 2, 3, "Staples"),
)


def _context(user: User) -> AuditContext:
    return AuditContext(user.pk, user.username, user.role, user.clinic_id, None, "", "demo")


def _staff(clinic: Clinic, role: Role) -> User:
    found = User.objects.filter(clinic=clinic, role=role).order_by("pk").first()
    if found is None:
        raise ValueError(f"the demo clinic has no {role.label}")
    return found


def _local_day(at: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The clinic's date at `at`: a complaint logged just after midnight happened yesterday."""
    return at.astimezone(zone).date()


def demo_complaints_morning(*, clinic: Clinic, now: dt.datetime) -> int:
    """Log the demo's complaints and supplies; returns how many complaints. Run once, inside
    the demo's build."""
    officer = _staff(clinic, Role.FRONT_DESK)
    supervisor = _staff(clinic, Role.SUPERVISOR)
    nurse = _staff(clinic, Role.NURSE)
    # A clinic with fewer patients still gets its complaints, from visitors with no record.
    patients: list[Patient | None] = list(
        clinic.patients.filter(merged_into__isnull=True).order_by("pk")[:4]
    )
    patients += [None] * (4 - len(patients))
    by_officer = _context(officer)
    zone = clinic_zone(clinic)
    complaint_log(
        context=by_officer,
        user=officer,
        patient=patients[0],
        occurred_on=_local_day(now - dt.timedelta(hours=2), zone),
        category=Category.WAITING,
        severity="low",
        what_happened="Waited 50 minutes past the appointment time; nobody said the doctor "
        "was running late.",
        patient_wants="To be told about delays when checking in.",
        resolved_at_desk=True,
        apologised=True,
        explained=True,
        desk_action="Offered a coffee and the next free room; patient satisfied.",
        now=now - dt.timedelta(hours=2),
    )
    complaint_log(
        context=by_officer,
        user=officer,
        patient=patients[1],
        occurred_on=_local_day(now - dt.timedelta(days=1, hours=3), zone),
        category=Category.BILLING,
        severity="medium",
        what_happened="Charged the co-pay twice for the same visit, once at the desk and once "
        "on the statement.",
        patient_wants="The second charge refunded and a written explanation.",
        resolved_at_desk=False,
        now=now - dt.timedelta(days=1, hours=3),
    )
    clinical = complaint_log(
        context=by_officer,
        user=officer,
        patient=patients[2],
        occurred_on=_local_day(now - dt.timedelta(days=6), zone),
        category=Category.CLINICAL_CARE,
        severity="high",
        what_happened="Says the prescription refill was promised within a day and took five; "
        "ran out of blood pressure medicine meanwhile.",
        patient_wants="To know why, and that it will not happen again.",
        resolved_at_desk=False,
        owner=supervisor,
        now=now - dt.timedelta(days=6),
    )
    complaint_acknowledge(
        context=_context(supervisor),
        user=supervisor,
        complaint=clinical,
        note="Called the patient; the refill process is being looked into.",
        now=now - dt.timedelta(days=5),
    )
    complaint_log(
        context=by_officer,
        user=officer,
        patient=patients[3],
        occurred_on=_local_day(now - dt.timedelta(hours=1), zone),
        category=Category.PRIVACY,
        severity="medium",
        what_happened="Heard her test results discussed at the desk, within earshot of the "
        "waiting room.",
        patient_wants="Assurance it will not happen again.",
        staff_involved=[nurse],
        resolved_at_desk=False,
        now=now - dt.timedelta(hours=1),
    )
    for name, unit, par, on_hand, supplier in SUPPLIES:
        supply_item_save(
            context=_context(supervisor),
            user=supervisor,
            item=None,
            name=name,
            unit=unit,
            par_level=par,
            supplier=supplier,
            on_hand=on_hand,
            now=now - dt.timedelta(days=2),
        )
    return 4
