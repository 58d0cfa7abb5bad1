"""End of the day: anyone still in the queue is flagged for a supervisor, and booked patients
who never came become no-shows by the scheduling rule (NO_SHOW_AFTER after their end)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.flow import live
from frontdesk.flow.models import FlowStatus, QueueEntry
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import SupervisorNotice
from frontdesk.scheduling.services import appointments_mark_no_shows

STILL_OPEN = (
    FlowStatus.WAITING,
    FlowStatus.CALLED,
    FlowStatus.IN_ROOM,
    FlowStatus.WITH_PROVIDER,
)


@dataclass(frozen=True)
class ClosingReport:
    flagged: list[str]  # tickets
    no_shows: int


def flow_close_day(
    *, context: AuditContext, day: dt.date, now: dt.datetime, clinic_id: int | None = None
) -> ClosingReport:
    """Close `day` (each clinic's own local day) for `clinic_id`, or for every clinic. Safe to
    run again: flagged entries are not flagged twice, and no-shows are only marked once."""
    flagged: list[str] = []
    with transaction.atomic():
        still_open = QueueEntry.objects.select_for_update().filter(
            day=day, status__in=STILL_OPEN, open_at_close=False
        )
        if clinic_id is not None:
            still_open = still_open.filter(clinic_id=clinic_id)
        open_entries = list(still_open.order_by("clinic_id", "ticket"))
        by_clinic: dict[int, list[QueueEntry]] = {}
        for entry in open_entries:
            by_clinic.setdefault(entry.clinic_id, []).append(entry)
        for entries_clinic_id, entries in by_clinic.items():
            QueueEntry.objects.filter(pk__in=[e.pk for e in entries]).update(open_at_close=True)
            tickets = [e.ticket for e in entries]
            flagged.extend(tickets)
            SupervisorNotice.objects.create(
                clinic_id=entries_clinic_id,
                created_at=now,
                text=(
                    f"Still in the queue when {day:%b %-d} closed: {', '.join(tickets)}. "
                    "Check that each was seen or has left."
                )[:300],
            )
            audit_record(
                context=context,
                action=AuditAction.SYSTEM,
                patient_ids=[e.patient_id for e in entries],
                object_type=AuditObject.FLOW_CLOSE_DAY,
                detail={"day": day.isoformat(), "tickets": tickets},
            )
            live.flow_changed(entries_clinic_id)
    no_shows = appointments_mark_no_shows(context=context, now=now)
    return ClosingReport(flagged, no_shows)


def flow_close_past_days(*, context: AuditContext, now: dt.datetime) -> ClosingReport:
    """Close every day that has ended, at each clinic's own midnight, and still has someone in
    the queue (the periodic task)."""
    open_days = set(
        QueueEntry.objects.filter(status__in=STILL_OPEN, open_at_close=False).values_list(
            "clinic_id", "day"
        )
    )
    clinics = Clinic.objects.filter(pk__in={clinic_id for clinic_id, _ in open_days})
    today = {clinic.pk: now.astimezone(clinic_zone(clinic)).date() for clinic in clinics}
    flagged: list[str] = []
    for clinic_id, day in sorted(open_days):
        if day < today[clinic_id]:
            report = flow_close_day(context=context, day=day, now=now, clinic_id=clinic_id)
            flagged.extend(report.flagged)
    return ClosingReport(flagged, appointments_mark_no_shows(context=context, now=now))
