"""The demo's eligibility morning: the demo clinic talks to the PAYER SIMULATOR (never a payer),
whose table holds the members of the demo's coverages, with the usual morning's surprises:
a few plans ended, a few co-pays that differ from the card, a few members the payer cannot
find. `frontdesk payer-simulator` reads the table from var/payer-simulator.json."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from frontdesk.clinic.models import AppointmentType, Clinic
from frontdesk.eligibility.models import (
    CheckReason,
    EligibilityConnection,
    EstimateIdentity,
    TransportKind,
    VisitFee,
)
from frontdesk.eligibility.queueing import appointment_checks_request, eligibility_batch_queue
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Coverage
from frontdesk.scheduling.models import Appointment

SIMULATOR_URL = "http://127.0.0.1:8790/core"
TABLE_NAME = "payer-simulator.json"
MEMBERS_MOST = 5000  # the simulator keeps its table in memory
TODAY_MOST = 500
# The demo's fee schedule: each type of visit's charge and the code it is billed under, so
# estimates and good-faith estimates have their figures (invented; not any clinic's prices).
FEES: dict[str, tuple[str, str]] = {
    "New patient visit": ("210.00", "99203"),
    "Follow-up visit": ("120.00", "99213"),
    "Annual physical": ("260.00", "99396"),
    "Telehealth follow-up": ("110.00", "99213"),
    "Sick visit": ("120.00", "99213"),
    "Well-child check": ("190.00", "99392"),
    "Vaccination": ("45.00", "90471"),
    "Cardiology consultation": ("340.00", "99244"),
    "Skin check": ("95.00", "99212"),
    "Physical therapy evaluation": ("180.00", "97162"),
    "Physical therapy session": ("90.00", "97110"),
}


def demo_eligibility_morning(*, clinic: Clinic, var_dir: Path | None = None) -> int:
    """Connect the demo clinic to the simulator and write its member table; returns members."""
    for kind in AppointmentType.objects.filter(clinic=clinic, name__in=FEES):
        amount, code = FEES[kind.name]
        VisitFee.objects.update_or_create(
            appointment_type=kind, defaults={"amount": Decimal(amount), "service_code": code}
        )
    # A made-up facility NPI (its check digit valid) and EIN, for the good-faith estimate.
    EstimateIdentity.objects.update_or_create(
        clinic=clinic, defaults={"facility_npi": "1245319599", "tin": "12-3456789"}
    )
    EligibilityConnection.objects.update_or_create(
        clinic=clinic,
        defaults={
            "kind": TransportKind.CORE_SOAP,
            "url": SIMULATOR_URL,
            "is_simulator": True,
            "sender_id": "DEMOCLINIC",
            "receiver_id": "SIMPAYER",
            "provider_name": clinic.name[:60],
            "provider_npi": "1234567893",
            "timeout_seconds": 5,
            "retries": 1,
            "concurrency": 8,
        },
    )
    soon = timezone.now() + dt.timedelta(days=7)
    upcoming = Appointment.objects.filter(clinic=clinic, start__lte=soon).values("patient_id")
    # The coming week's patients first, then others up to the table's size.
    first = list(
        Coverage.objects.filter(patient_id__in=upcoming).select_related("patient")[:MEMBERS_MOST]
    )
    rest = (
        Coverage.objects.filter(patient__clinic=clinic)
        .exclude(pk__in=[c.pk for c in first])
        .select_related("patient")
        .order_by("pk")[: max(MEMBERS_MOST - len(first), 0)]
    )
    coverages = [*first, *rest]
    members = []
    for index, coverage in enumerate(coverages):
        patient = coverage.patient
        if index % 17 == 16:
            continue  # the payer cannot find this one: "Subscriber not found"
        card = coverage.copay if coverage.copay is not None else 25
        members.append(
            {
                "member_id": coverage.member_id,
                "last_name": patient.family_name.upper(),
                "first_name": patient.given_name.upper(),
                "birth_date": patient.birth_date.strftime("%Y%m%d"),
                "plan_name": coverage.plan_name.upper()[:50] or "DEMO PPO",
                "active": index % 11 != 10,  # a plan that ended
                "plan_end": "" if index % 11 != 10 else "20251231",
                "copay": f"{card + (10 if index % 7 == 6 else 0):.2f}",  # card out of date
            }
        )
    # Today's visits are asked about now (the worker sends them once the simulator runs); the
    # next two business days' come with the nightly batch.
    zone = clinic_zone(clinic)
    start = dt.datetime.combine(timezone.now().astimezone(zone).date(), dt.time(), tzinfo=zone)
    for visit in Appointment.objects.filter(
        clinic=clinic, start__gte=start, start__lt=start + dt.timedelta(days=1)
    )[:TODAY_MOST]:
        appointment_checks_request(
            appointment=visit, reason=CheckReason.BOOKING, now=timezone.now()
        )
    eligibility_batch_queue(clinic=clinic, now=timezone.now())
    path = (var_dir or Path(settings.VAR_DIR)) / TABLE_NAME
    path.write_text(json.dumps({"payer_name": "DEMO PAYERS", "members": members}), encoding="utf-8")
    return len(members)
