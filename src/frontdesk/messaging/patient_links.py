"""What a patient can do through the signed link in a reminder: see the appointment (first name,
date, time, place, nothing more), confirm it or cancel it. The actor recorded in the audit trail
is the patient, identified by the link, with the browser's address."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.lib.links import LinkInvalidError, read_token
from frontdesk.messaging.content import (
    APPOINTMENT_LINK_PURPOSE,
    appointment_place,
    appointment_when,
)
from frontdesk.scheduling.models import Appointment, AppointmentStatus, CancelledBy
from frontdesk.scheduling.services import (
    BookingRefusedError,
    appointment_cancel,
    appointment_confirm,
)

PATIENT_ROLE = "patient"


class LinkState(StrEnum):
    OPEN = "open"  # may still confirm or cancel
    CANCELLED = "cancelled"
    OVER = "over"  # started, happened, or marked otherwise by the clinic


@dataclass(frozen=True)
class AppointmentCard:
    """Everything the patient's page may show. Deliberately no family name, birth date, phone,
    visit type or provider: whoever holds the link sees only this."""

    first_name: str
    date: str
    time: str
    place: str
    state: LinkState
    confirmed: bool


def appointment_from_token(token: str) -> Appointment:
    """The appointment a link names. Raises LinkExpiredError or LinkInvalidError."""
    appointment_id = read_token(APPOINTMENT_LINK_PURPOSE, token)
    appointment = (
        Appointment.objects.select_related("patient", "clinic", "schedule__location")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        raise LinkInvalidError("This link is not valid.")
    return appointment


def patient_link_context(request: HttpRequest, appointment: Appointment) -> AuditContext:
    return AuditContext(
        actor_id=None,
        actor_username=f"patient #{appointment.patient_id} (signed link)",
        actor_role=PATIENT_ROLE,
        clinic_id=appointment.clinic_id,
        client_ip=request.META.get("REMOTE_ADDR") or None,
        user_agent=str(request.META.get("HTTP_USER_AGENT", "")).replace("\x00", "")[:300],
        purpose="the patient's own request through a reminder link",
    )


def _state(appointment: Appointment, now: dt.datetime) -> LinkState:
    if appointment.status == AppointmentStatus.CANCELLED:
        return LinkState.CANCELLED
    if appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.PENDING) and (
        appointment.start > now
    ):
        return LinkState.OPEN
    return LinkState.OVER


def _card(appointment: Appointment) -> AppointmentCard:
    when = appointment_when(appointment.start, appointment.clinic_id)
    return AppointmentCard(
        first_name=appointment.patient.given_name,
        date=when.date,
        time=when.time,
        place=appointment_place(appointment),
        state=_state(appointment, timezone.now()),
        confirmed=appointment.confirmed_at is not None,
    )


@transaction.atomic
def appointment_card_view(*, context: AuditContext, appointment: Appointment) -> AppointmentCard:
    """The page's content, with its audit event (the patient viewed their appointment)."""
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[appointment.patient_id],
        object_type=AuditObject.APPOINTMENT,
        object_id=appointment.pk,
        detail={"via": "reminder link"},
    )
    return _card(appointment)


class PatientActionRefusedError(Exception):
    """The patient's confirm or cancel cannot be done; the text says why, politely."""


@transaction.atomic
def appointment_patient_act(
    *, context: AuditContext, appointment: Appointment, action: str
) -> AppointmentCard:
    """Confirm or cancel for the patient. The scheduling services lock the row, check the status
    again and write the history and the audit event with the patient as actor."""
    current = Appointment.objects.select_for_update().get(pk=appointment.pk)
    state = _state(current, timezone.now())
    if state == LinkState.CANCELLED:
        raise PatientActionRefusedError("This appointment has already been cancelled.")
    if state == LinkState.OVER:
        raise PatientActionRefusedError("This appointment is in the past, so it cannot be changed.")
    try:
        if action == "confirm":
            appointment_confirm(context=context, user=None, appointment=current)
        elif action == "cancel":
            appointment_cancel(
                context=context,
                # The patient has no staff account; the history records no staff member.
                user=None,
                appointment=current,
                cancelled_by=CancelledBy.PATIENT,
                reason="Cancelled by the patient through the reminder link",
            )
        else:
            raise PatientActionRefusedError("Choose whether to confirm or cancel.")
    except BookingRefusedError as exc:
        raise PatientActionRefusedError(str(exc)) from None
    current.refresh_from_db()
    return _card(
        Appointment.objects.select_related("patient", "schedule__location").get(pk=current.pk)
    )
