"""Authorisation warnings for a visit (scheduling/visit_warnings.py): a referral's authorisation
that will have expired by the visit, or whose authorised visits are used up. Shown when the
visit is booked and when the patient checks in."""

from __future__ import annotations

import datetime as dt

from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.referrals.models import Direction, Referral, ReferralStatus
from frontdesk.scheduling.models import AppointmentStatus

_OPEN = (ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED, ReferralStatus.SCHEDULED)
_NOT_A_VISIT = (
    AppointmentStatus.CANCELLED,
    AppointmentStatus.NOSHOW,
    AppointmentStatus.ENTERED_IN_ERROR,
    AppointmentStatus.WAITLIST,
)


def authorisation_warnings(
    *, patient_id: int, start: dt.datetime, appointment_id: int | None
) -> list[str]:
    referrals = list(
        Referral.objects.filter(
            patient_id=patient_id, direction=Direction.INCOMING, status__in=_OPEN
        )
        .exclude(auth_expires=None, auth_visits=None)
        .prefetch_related("appointments")
    )
    if appointment_id is not None:
        # At check-in: the referral this visit was booked for, when it is linked to one.
        linked = [r for r in referrals if any(a.pk == appointment_id for a in r.appointments.all())]
        referrals = linked or referrals
    warnings = []
    for referral in referrals:
        who = referral.provider_name or referral.practice_name or "the referrer"
        label = (
            f"The authorisation {referral.auth_number}"
            if referral.auth_number
            else "The authorisation"
        )
        day = start.astimezone(clinic_zone(referral.clinic_id)).date()
        if referral.auth_expires is not None and day > referral.auth_expires:
            warnings.append(
                f"{label} for the referral from {who} expires on "
                f"{referral.auth_expires:%b %-d, %Y}, before this visit: ask the payer or the "
                "referrer to extend it."
            )
        if referral.auth_visits is not None:
            # The visits before this one that count against the authorisation.
            used = sum(
                1
                for a in referral.appointments.all()
                if a.pk != appointment_id and a.status not in _NOT_A_VISIT and a.start < start
            )
            if used >= referral.auth_visits:
                warnings.append(
                    f"{label} for the referral from {who} allows {referral.auth_visits} "
                    f"visit{'s' if referral.auth_visits != 1 else ''}, already used: ask for a "
                    "new authorisation."
                )
    return warnings
