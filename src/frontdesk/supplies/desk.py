"""Supplies on the desk queue: every active item below its par level (kind `supply`), derived
from the item, so a count or a delivery that brings it back to par takes it off the queue."""

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
from django.db.models.functions import Coalesce

from frontdesk.accounts.roles import Role
from frontdesk.desk.pools import Pool
from frontdesk.desk.sources import ROW_FIELDS, DeskEntry, desk_source_register
from frontdesk.lib.urls import id_url
from frontdesk.supplies.models import SupplyItem


class SupplyBelowParSource:
    kind = "supply"
    label = "Supplies to reorder"
    roles = frozenset({Role.FRONT_DESK, Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            SupplyItem.objects.filter(clinic_id=clinic_id, active=True, on_hand__lt=F("par_level"))
            .annotate(
                ref=F("pk"),
                patient_id=Value(None, output_field=IntegerField()),
                due=Value(None, output_field=DateTimeField()),
                # Every service sets below_par_since; an item changed by hand falls back.
                since=Coalesce("below_par_since", "created_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=IntegerField()),
                pool=Value(Pool.DESK.value, output_field=CharField()),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        return {
            item.pk: DeskEntry(
                title=f"Reorder {item.name}",
                url=id_url("supplies:count", item.pk),
                detail=(
                    f"{item.on_hand} of {item.par_level} {item.unit} on hand"
                    + (f" · {item.supplier}" if item.supplier else "")
                ),
            )
            for item in SupplyItem.objects.filter(pk__in=refs)
        }


def register() -> None:
    desk_source_register(SupplyBelowParSource())
