"""Reads of referrals: fetched and authorised in one call; audited reads end in `_for_view`."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import AuditContext
from frontdesk.documents.models import Document
from frontdesk.patients.selectors import patient_access_check, patients_shown
from frontdesk.referrals.models import CLOSED, Practice, Referral
from frontdesk.scheduling.models import Appointment, AppointmentStatus

LIST_LIMIT = 200


def _clinic_id(user: User) -> int:
    if user.clinic_id is None:  # an account of no clinic sees no clinic's records
        raise Http404("No clinic")
    return user.clinic_id


def access_referral(user: User, referral_id: int) -> Referral:
    """The referral, if this user may see its patient (same clinic; restricted needs a grant)."""
    try:
        referral = Referral.objects.select_related("patient", "practice").get(
            pk=referral_id, clinic_id=_clinic_id(user)
        )
    except Referral.DoesNotExist:
        raise Http404("No such referral") from None
    patient_access_check(user, referral.patient)
    return referral


def referral_for_view(user: User, *, context: AuditContext, referral_id: int) -> Referral:
    """The referral with its documents (its patient's only: one moved away is not shown) and
    visits, recorded as a look at the patient's record."""
    referral = access_referral(user, referral_id)
    referral.shown_documents = list(  # type: ignore[attr-defined]
        referral.documents.filter(patient_id=referral.patient_id).order_by("received_at")
    )
    referral.shown_visits = list(  # type: ignore[attr-defined]
        referral.appointments.select_related("provider").order_by("start")
    )
    patients_shown(
        context=context,
        patient_ids=[referral.patient_id],
        page=AuditObject.REFERRAL,
        object_id=referral.pk,
    )
    return referral


def open_referrals_for_view(user: User, *, context: AuditContext) -> list[Referral]:
    """The clinic's open referrals, in and out, those due first (two queries at most)."""
    referrals = list(
        Referral.objects.filter(clinic_id=_clinic_id(user))
        .exclude(status__in=CLOSED)
        .select_related("patient", "practice")
        .order_by("due_at", "received_at", "pk")[:LIST_LIMIT]
    )
    patients_shown(
        context=context,
        patient_ids=sorted({r.patient_id for r in referrals}),
        page=AuditObject.REFERRAL_LIST,
    )
    return referrals


def patient_referrals(patient_id: int) -> QuerySet[Referral]:
    return Referral.objects.filter(patient_id=patient_id).order_by("-received_at")[:20]


def booking_candidates(referral: Referral, *, now: dt.datetime) -> list[Appointment]:
    """The patient's coming visits not yet linked to the referral (the one just booked)."""
    linked = referral.appointments.values_list("pk", flat=True)
    return list(
        Appointment.objects.filter(
            patient_id=referral.patient_id,
            start__gte=now - dt.timedelta(days=1),
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.PENDING],
        )
        .exclude(pk__in=linked)
        .select_related("provider")
        .order_by("start")[:20]
    )


def referral_documents_choices(user: User, patient_id: int | None) -> QuerySet[Document]:
    """Documents that may go with a referral: the clinic's unfiled ones and the patient's."""
    documents = Document.objects.filter(clinic_id=_clinic_id(user), patient__isnull=True)
    if patient_id is not None:
        documents = documents | Document.objects.filter(
            clinic_id=_clinic_id(user), patient_id=patient_id
        )
    return documents.order_by("-received_at")


def attachable_documents(user: User, referral: Referral) -> QuerySet[Document]:
    """The clinic's unfiled documents and the patient's, less those already with the referral."""
    return referral_documents_choices(user, referral.patient_id).exclude(
        pk__in=referral.documents.values("pk")
    )


def practices(clinic_id: int, *, active_only: bool = False) -> QuerySet[Practice]:
    found = Practice.objects.filter(clinic_id=clinic_id)
    return found.filter(active=True) if active_only else found


def access_practice(user: User, practice_id: int) -> Practice:
    try:
        return Practice.objects.get(pk=practice_id, clinic_id=_clinic_id(user))
    except Practice.DoesNotExist:
        raise Http404("No such practice") from None
