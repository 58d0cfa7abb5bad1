"""When a coverage is saved or a visit booked, a check is queued in the same transaction.

Patients and scheduling sit below eligibility and cannot call it, so eligibility listens to
their models' `post_save` (sent inside the saving transaction): the check row commits or rolls
back with its cause, and the worker is woken once the cause has committed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from frontdesk.eligibility.models import CheckReason
from frontdesk.eligibility.queueing import appointment_checks_request, coverage_checks_request
from frontdesk.eligibility.tasks import eligibility_kick
from frontdesk.patients.models import Coverage
from frontdesk.scheduling.models import Appointment, AppointmentStatus

_ASKED_FIELDS = {
    "member_id",
    "payer",
    "payer_id",
    "group_number",
    "subscriber_birth_date",
    "effective_date",
    "end_date",
    "relationship",
}


def _coverage_saved(sender: Any, instance: Coverage, created: bool, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if not created and fields is not None and not (set(fields) & _ASKED_FIELDS):
        return  # a card picture or the typed co-pay changed: the payer's answer still holds
    if coverage_checks_request(coverage=instance, now=timezone.now()):
        transaction.on_commit(eligibility_kick)


def _appointment_saved(sender: Any, instance: Appointment, created: bool, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    moved = fields is None or "start" in set(fields)
    if instance.status != AppointmentStatus.BOOKED or not (created or moved):
        return
    if appointment_checks_request(
        appointment=instance, reason=CheckReason.BOOKING, now=timezone.now()
    ):
        transaction.on_commit(eligibility_kick)


def triggers_connect() -> None:
    post_save.connect(_coverage_saved, sender=Coverage, dispatch_uid="eligibility_coverage")
    post_save.connect(
        _appointment_saved, sender=Appointment, dispatch_uid="eligibility_appointment"
    )
