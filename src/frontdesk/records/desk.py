"""Records requests near or past their legal deadline, on the desk queue (desk/sources.py): a
state of the request, never a second row. A request shows once it is within the clinic's
warning days of its due date; once due it belongs to the supervisors' pool too, who answer for
the deadline. It leaves the queue the moment it is sent or denied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
)

from frontdesk.accounts.roles import Role
from frontdesk.desk.pools import Pool
from frontdesk.desk.sources import (
    PATIENT_FIELDS,
    ROW_FIELDS,
    DeskEntry,
    desk_patient_label,
    moment,
)
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.urls import id_url
from frontdesk.records.models import OPEN_STATUSES, RecordsRequest
from frontdesk.records.services import records_settings


class RecordsRequestsDue:
    kind = "records_request_due"
    label = "Records requests due"
    roles = frozenset({Role.FRONT_DESK, Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        def warned_from(t: dt.datetime) -> dt.datetime:
            return t + dt.timedelta(days=records_settings(clinic_id).warn_days)

        rows: QuerySet[Any] = (
            RecordsRequest.objects.filter(
                clinic_id=clinic_id, status__in=OPEN_STATUSES, due_at__lte=moment(now, warned_from)
            )
            .annotate(
                ref=F("pk"),
                due=F("due_at"),
                since=F("received_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=IntegerField()),
                pool=Case(
                    When(due_at__lte=moment(now), then=Value(Pool.SUPERVISORS.value)),
                    default=Value(Pool.DESK.value),
                    output_field=CharField(),
                ),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        requests = (
            RecordsRequest.objects.filter(pk__in=refs)
            .select_related("patient")
            .only("pk", "clinic_id", "status", "due_at", "extended_at", *PATIENT_FIELDS)
        )
        entries = {}
        for request in requests:
            due_on = request.due_at.astimezone(clinic_zone(request.clinic_id))
            late = request.due_at <= now
            entries[request.pk] = DeskEntry(
                title="Answer a request for records",
                url=id_url("records:request", request.pk),
                patient_label=desk_patient_label(request.patient),
                detail=" · ".join(
                    part
                    for part in (
                        f"{'was due' if late else 'due'} {due_on:%b %-d}",
                        request.get_status_display(),
                        "extended once" if request.extended_at else "",
                    )
                    if part
                ),
            )
        return entries
