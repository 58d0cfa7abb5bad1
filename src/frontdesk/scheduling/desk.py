"""What scheduling puts on the desk queue, derived (never stored): appointments of the next two
business days not yet confirmed, and waitlist offers about to expire unanswered. Each row is a
state of the appointment or the offer, so it leaves the queue the moment that state ends
(the appointment is confirmed, cancelled or moved; the offer is answered or expires)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import BigIntegerField, BooleanField, CharField, F, QuerySet, Value

from frontdesk.accounts.roles import Role
from frontdesk.desk.sources import (
    PATIENT_FIELDS,
    ROW_FIELDS,
    DeskEntry,
    desk_patient_label,
    moment,
)
from frontdesk.lib.clinic_time import clinic_zone, local_midnight
from frontdesk.lib.urls import id_url
from frontdesk.scheduling.business_days import business_days_from
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentStatus,
    WaitlistOffer,
    WaitlistOfferStatus,
)

DESK_ROLES = frozenset({Role.FRONT_DESK, Role.SUPERVISOR})
# How many business days ahead an unconfirmed appointment is desk work.
CONFIRM_BUSINESS_DAYS = 2


def confirm_window_end(clinic_id: int, now: dt.datetime) -> dt.datetime:
    """The end of the second business day after today (clinic's zone, less its holidays)."""
    zone = clinic_zone(clinic_id)
    today = now.astimezone(zone).date()
    last = business_days_from(clinic_id, today, CONFIRM_BUSINESS_DAYS)[-1]
    return local_midnight(last + dt.timedelta(days=1), zone)


def _when(moment: dt.datetime, clinic_id: int) -> str:
    return moment.astimezone(clinic_zone(clinic_id)).strftime("%a %H:%M")


class UnconfirmedSource:
    kind = "unconfirmed"
    label = "Appointments to confirm"
    roles = DESK_ROLES

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            Appointment.objects.filter(
                clinic_id=clinic_id,
                status=AppointmentStatus.BOOKED,
                confirmed_at__isnull=True,
                start__gt=moment(now),
                start__lt=moment(now, lambda t: confirm_window_end(clinic_id, t)),
            )
            .annotate(
                ref=F("pk"),
                due=F("start"),
                since=F("created_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=BigIntegerField()),
                pool=Value("", output_field=CharField()),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        found = (
            Appointment.objects.filter(pk__in=refs)
            .select_related("patient", "provider", "appointment_type")
            .only(
                "start",
                "clinic_id",
                "provider__given_name",
                "provider__family_name",
                "provider__credentials",
                "appointment_type__name",
                *PATIENT_FIELDS,
            )
        )
        return {
            a.pk: DeskEntry(
                title="Confirm the appointment",
                url=id_url("scheduling:appointment", a.pk),
                patient_label=desk_patient_label(a.patient),
                detail=(
                    f"{_when(a.start, a.clinic_id)} with {a.provider} · {a.appointment_type.name}"
                ),
            )
            for a in found
        }


class OfferExpiringSource:
    kind = "offer_expiring"
    label = "Waitlist offers about to expire"
    roles = DESK_ROLES

    def rows(self, *, clinic_id: int, now: dt.datetime) -> QuerySet[Any]:
        rows: QuerySet[Any] = (
            WaitlistOffer.objects.filter(
                entry__clinic_id=clinic_id,
                status=WaitlistOfferStatus.OFFERED,
                expires_at__gt=moment(now),
                # Unanswered in the second half of its life: time to phone the patient.
                expires_at__lte=moment(now, lambda t: t + settings.WAITLIST_OFFER_TTL / 2),
            )
            .annotate(
                ref=F("pk"),
                patient_id=F("entry__patient_id"),
                due=F("expires_at"),
                since=F("created_at"),
                red_flag=Value(False, output_field=BooleanField()),
                patient_waiting=Value(False, output_field=BooleanField()),
                owner_id=Value(None, output_field=BigIntegerField()),
                pool=Value("", output_field=CharField()),
            )
            .values(*ROW_FIELDS)
        )
        return rows

    def describe(self, refs: Sequence[int], *, now: dt.datetime) -> dict[int, DeskEntry]:
        found = WaitlistOffer.objects.filter(pk__in=refs).select_related(
            "entry__patient", "provider"
        )
        return {
            o.pk: DeskEntry(
                title="Call about a waitlist offer before it expires",
                url=id_url("scheduling:waitlist_change", o.entry_id),
                patient_label=desk_patient_label(o.entry.patient),
                detail=f"Offered {_when(o.start, o.entry.clinic_id)} with {o.provider}",
            )
            for o in found
        }
