"""Incoming referrals not yet booked, on the desk queue (desk/sources.py): a state of the
referral, never a second row. Due at the clinic's target (5 business days; urgent: 1), so one
not booked within it is overdue at the top of the queue; it leaves once booked or declined."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import (
    BooleanField,
    CharField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
)

from frontdesk.accounts.roles import Role
from frontdesk.desk.pools import Pool
from frontdesk.desk.sources import ROW_FIELDS, DeskEntry
from frontdesk.lib.urls import id_url
from frontdesk.referrals.models import UNSCHEDULED, Direction, Referral, ReferralStatus, Urgency


class UnscheduledReferrals:
    kind = "referral_unscheduled"
    label = "Referrals to book"
    roles = frozenset({Role.FRONT_DESK, Role.SUPERVISOR})

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            Referral.objects.filter(
                clinic_id=clinic_id, direction=Direction.INCOMING, status__in=UNSCHEDULED
            )
            .annotate(
                ref=F("pk"),
                due=F("due_at"),
                since=F("received_at"),
                # An urgent referral is a clinician's judgement that the patient must be seen
                # soon: it goes first, as a red flag does.
                red_flag=ExpressionWrapper(Q(urgency=Urgency.URGENT), output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=IntegerField()),
                pool=Value(Pool.DESK.value, output_field=CharField()),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        referrals = (
            Referral.objects.filter(pk__in=refs)
            .select_related("patient")
            .only(
                "pk",
                "status",
                "urgency",
                "due_at",
                "patient__family_name",
                "patient__given_name",
                "patient__mrn",
            )
        )
        entries = {}
        for referral in referrals:
            overdue = referral.due_at is not None and referral.due_at < now
            entries[referral.pk] = DeskEntry(
                title=(
                    "Get a decision on a referral"
                    if referral.status == ReferralStatus.RECEIVED
                    else "Book a referred patient"
                ),
                url=id_url("referrals:referral", referral.pk),
                # As the lists show a patient: name and MRN, no birth date or phone.
                patient_label=(
                    f"{referral.patient.family_name}, {referral.patient.given_name} "
                    f"(MRN {referral.patient.mrn})"
                ),
                detail=" · ".join(
                    part
                    for part in (
                        "Urgent" if referral.urgency == Urgency.URGENT else "",
                        "past the clinic's target" if overdue else "",
                    )
                    if part
                ),
            )
        return entries
