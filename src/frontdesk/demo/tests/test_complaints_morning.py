from __future__ import annotations

import datetime as dt

from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.complaints.models import Complaint, ComplaintStatus, PrivacyReview
from frontdesk.demo.complaints_morning import demo_complaints_morning
from frontdesk.desk.sources import desk_sources
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.supplies.models import SupplyItem


def test_the_demo_morning_gives_the_desk_queue_complaints_and_supplies(
    personas: Personas,
) -> None:
    personas.clinic.time_zone = "Pacific/Kiritimati"  # a day ahead of UTC most of the time
    personas.clinic.save()
    for name in ("Ana", "Ben", "Cy"):
        make_patient(personas.clinic, given_name=name)
    now = timezone.now()
    assert demo_complaints_morning(clinic=personas.clinic, now=now) == 4
    statuses = sorted(Complaint.objects.values_list("status", flat=True))
    assert statuses == sorted(
        [
            ComplaintStatus.RESOLVED_AT_DESK,
            ComplaintStatus.AWAITING_ACKNOWLEDGEMENT,
            ComplaintStatus.AWAITING_ACKNOWLEDGEMENT,
            ComplaintStatus.ACKNOWLEDGED,
        ]
    )
    assert Complaint.objects.filter(patient__isnull=True).count() == 1  # three patients only
    assert PrivacyReview.objects.filter(closed_at__isnull=True).count() == 1
    assert [i.name for i in SupplyItem.objects.all() if i.below_par] == [
        "Printer paper",
        "Nitrile gloves, medium",
    ]
    sources = desk_sources()
    counts = {
        kind: len(list(sources[kind].rows(clinic_id=personas.clinic.pk, now=now)))
        for kind in ("complaint", "grievance", "privacy_review", "supply")
    }
    assert counts == {"complaint": 2, "grievance": 1, "privacy_review": 1, "supply": 2}


def test_the_demo_morning_loads_just_after_the_clinics_midnight(personas: Personas) -> None:
    # Complaints logged "two hours ago" then happened yesterday, not today.
    zone = clinic_zone(personas.clinic)
    local = timezone.now().astimezone(zone).replace(hour=0, minute=14, second=0, microsecond=0)
    assert demo_complaints_morning(clinic=personas.clinic, now=local.astimezone(dt.UTC)) == 4
    days = {c.occurred_on for c in Complaint.objects.all()}
    assert local.date() not in days
    assert max(days) == local.date() - dt.timedelta(days=1)
