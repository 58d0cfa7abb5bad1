"""The desk queue's "verify later" items: coverage a payer did not confirm (no answer, an
answer not understood, a refusal). Each is a `VerifyLater` row, open until a later answer
arrives or someone marks it verified."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import BooleanField, CharField, F, IntegerField, QuerySet, Value

from frontdesk.accounts.roles import Role
from frontdesk.desk.pools import Pool
from frontdesk.desk.sources import DeskEntry
from frontdesk.eligibility.models import VerifyLater
from frontdesk.lib.masking import mask_birth_date
from frontdesk.lib.urls import id_url


class VerifyLaterSource:
    kind = "eligibility_verify"
    label = "Insurance to verify"
    roles = frozenset({Role.FRONT_DESK, Role.BILLING, Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        return (
            VerifyLater.objects.filter(clinic_id=clinic_id, closed_at__isnull=True)
            .annotate(
                ref=F("pk"),
                since=F("created_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=IntegerField()),
                pool=Value(Pool.DESK.value, output_field=CharField()),
            )
            .values(
                "ref",
                "patient_id",
                "due",
                "since",
                "red_flag",
                "patient_waiting",
                "owner_id",
                "pool",
            )
        )

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        items = VerifyLater.objects.filter(pk__in=list(refs)).select_related(
            "patient", "coverage__payer", "source_check"
        )
        return {
            item.pk: DeskEntry(
                title=f"Verify insurance with {item.coverage.payer.name}",
                url=id_url("eligibility:patient", item.patient_id),
                patient_label=(
                    f"{item.patient.family_name}, {item.patient.given_name} "
                    f"({mask_birth_date(item.patient.birth_date)})"
                ),
                detail=item.source_check.words[:120],
            )
            for item in items
        }
