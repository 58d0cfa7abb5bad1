"""The set-up page's reads: counts and the latest set-up changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from frontdesk.audit.models import AuditEvent
from frontdesk.clinic.models import AppointmentType, Clinic
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.scheduling.models import (
    Block,
    ClinicHoliday,
    ScheduleTemplate,
)

# The audit object types of set-up changes, shown on the set-up page's list of recent changes.
SETUP_OBJECT_LABELS = {
    "appointment_type": "appointment type",
    "schedule_template": "weekly hours",
    "block": "block or leave",
    "clinic_holiday": "holiday",
    "calendar_event_title": "calendar visit title",
}


@dataclass(frozen=True)
class SetupSummary:
    appointment_types: int
    templates: int
    upcoming_blocks: int
    upcoming_holidays: int
    calendar_event_title: str
    recent_changes: list[tuple[AuditEvent, str]]  # the event and what it changed, in words


RECENT_CHANGES = 15
RECENT_DAYS = 30


def setup_summary(*, clinic: Clinic, now: dt.datetime) -> SetupSummary:
    """Counts for the set-up page and the latest set-up changes (the audit trail's own rows,
    read within RECENT_DAYS so the occurred_at index bounds the scan)."""
    today = now.astimezone(clinic_zone(clinic)).date()
    changes = list(
        AuditEvent.objects.filter(
            clinic_id_value=clinic.pk,
            object_type__in=list(SETUP_OBJECT_LABELS),
            occurred_at__gte=now - dt.timedelta(days=RECENT_DAYS),
        ).order_by("-occurred_at", "-seq")[:RECENT_CHANGES]
    )
    return SetupSummary(
        appointment_types=AppointmentType.objects.filter(clinic=clinic).count(),
        templates=ScheduleTemplate.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today), schedule__clinic=clinic
        ).count(),
        upcoming_blocks=Block.objects.filter(schedule__clinic=clinic, end__gt=now).count(),
        upcoming_holidays=ClinicHoliday.objects.filter(clinic=clinic, date__gte=today).count(),
        calendar_event_title=clinic.calendar_event_title,
        recent_changes=[(e, SETUP_OBJECT_LABELS[e.object_type]) for e in changes],
    )
