"""What the flow puts on the desk queue, derived (never stored): walk-ins whose registration is
still to complete, and patients waiting past the board's red threshold (FLOW_THRESHOLDS). Both
are states of a record of the flow, so they leave the queue when the record moves on (the
registration is completed; the patient is called)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.urls import reverse

from frontdesk.accounts.roles import Role
from frontdesk.desk.scoring import span_words
from frontdesk.desk.sources import (
    PATIENT_FIELDS,
    ROW_FIELDS,
    DeskEntry,
    desk_patient_label,
    moment,
)
from frontdesk.flow.models import FlowStatus, IncompleteRegistration, Priority, QueueEntry
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.urls import id_url

DESK_ROLES = frozenset({Role.FRONT_DESK, Role.SUPERVISOR})


def red_minutes() -> int:
    """The board's red threshold for a patient waiting, in minutes."""
    return settings.FLOW_THRESHOLDS.get(FlowStatus.WAITING, (15, 30))[1]


class WalkInIncompleteSource:
    kind = "walk_in_incomplete"
    label = "Walk-in registrations to complete"
    roles = DESK_ROLES

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        today = moment(now, lambda t: t.astimezone(clinic_zone(clinic_id)).date(), DateField())
        waiting = QueueEntry.objects.filter(
            patient_id=OuterRef("patient_id"),
            clinic_id=clinic_id,
            day=today,
            status=FlowStatus.WAITING,
        )
        rows: QuerySet[Any] = (
            IncompleteRegistration.objects.filter(
                patient__clinic_id=clinic_id, completed_at__isnull=True
            )
            .annotate(
                ref=F("pk"),
                due=Value(None, output_field=DateTimeField()),
                since=F("registered_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Exists(waiting),
                owner_id=Value(None, output_field=BigIntegerField()),
                pool=Value("", output_field=CharField()),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        found = (
            IncompleteRegistration.objects.filter(pk__in=refs)
            .select_related("patient")
            .only("patient_id", *PATIENT_FIELDS)
        )
        return {
            r.pk: DeskEntry(
                title="Complete the walk-in's registration",
                url=id_url("patients:chart", r.patient_id),
                patient_label=desk_patient_label(r.patient),
                detail="Address, insurance and contacts still to add",
                waiting="in the waiting room: ask now",
            )
            for r in found
        }


class WaitingRedSource:
    kind = "waiting_red"
    label = "Patients waiting past the limit"
    roles = DESK_ROLES

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        red = dt.timedelta(minutes=red_minutes())
        rows: QuerySet[Any] = (
            QueueEntry.objects.filter(
                clinic_id=clinic_id,
                status=FlowStatus.WAITING,
                status_changed_at__lte=moment(now, lambda t: t - red),
            )
            .annotate(
                ref=F("pk"),
                due=ExpressionWrapper(F("status_changed_at") + red, output_field=DateTimeField()),
                since=F("checked_in_at"),
                red_flag=ExpressionWrapper(
                    Q(priority=Priority.EMERGENCY), output_field=BooleanField()
                ),
                patient_waiting=Value(True, output_field=BooleanField()),
                owner_id=Value(None, output_field=BigIntegerField()),
                pool=Value("", output_field=CharField()),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        found = (
            QueueEntry.objects.filter(pk__in=refs)
            .select_related("patient", "queue")
            .only("ticket", "priority", "status_changed_at", "queue__name", *PATIENT_FIELDS)
        )
        board = reverse("flow:board")
        return {
            e.pk: DeskEntry(
                title="Speak to a patient who has waited too long",
                url=board,
                patient_label=desk_patient_label(e.patient),
                detail=f"Ticket {e.ticket} · {e.queue.name}",
                flag="emergency, clinician alerted" if e.priority == Priority.EMERGENCY else "",
                waiting=f"{span_words(now - e.status_changed_at)} in the waiting room",
            )
            for e in found
        }
