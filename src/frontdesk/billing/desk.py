"""The supervisors' desk work from billing: drawer variances beyond the clinic's tolerance,
until a supervisor has reviewed them. Derived from the close-outs, never stored twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    F,
    IntegerField,
    QuerySet,
    Value,
)

from frontdesk.accounts.roles import Role
from frontdesk.billing.drawer import variance_words
from frontdesk.billing.models import DrawerCloseOut
from frontdesk.desk.pools import Pool
from frontdesk.desk.sources import ROW_FIELDS, DeskEntry
from frontdesk.lib.urls import id_url


class DrawerVarianceSource:
    kind = "drawer_variance"
    label = "Drawer variances"
    roles = frozenset({Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            DrawerCloseOut.objects.filter(
                drawer__clinic_id=clinic_id, beyond_tolerance=True, review__isnull=True
            )
            .annotate(
                ref=F("drawer_id"),
                patient_id=Value(None, output_field=IntegerField()),
                due=Value(None, output_field=DateTimeField()),
                since=F("closed_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=IntegerField()),
                pool=Value(Pool.SUPERVISORS.value, output_field=CharField()),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        close_outs = DrawerCloseOut.objects.filter(drawer_id__in=refs).select_related(
            "drawer__officer", "drawer__location"
        )
        return {
            c.drawer_id: DeskEntry(
                title="Review a drawer variance",
                url=id_url("billing:drawer_detail", c.drawer_id),
                detail=(
                    f"{c.drawer.officer.get_full_name() or c.drawer.officer.username} at "
                    f"{c.drawer.location}, {c.drawer.business_day:%b %-d}: "
                    f"{variance_words(c.variance)}"
                ),
            )
            for c in close_outs
        }
