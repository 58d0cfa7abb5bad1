"""Reads of records requests and disclosures: fetched and authorised in one call; audited reads
end in `_for_view`, and the accounting of disclosures is printed as an audited read."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import AuditContext
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.pdf import pdf_from_template
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient, patient_access_check, patients_shown
from frontdesk.records.models import OPEN_STATUSES, Disclosure, RecordsRequest

LIST_LIMIT = 200
# 45 CFR 164.528(a): the accounting covers the six years before the request for it.
ACCOUNTING_YEARS = 6


def _clinic_id(user: User) -> int:
    if user.clinic_id is None:  # an account of no clinic sees no clinic's records
        raise Http404("No clinic")
    return user.clinic_id


def access_records_request(user: User, request_id: int) -> RecordsRequest:
    """The request, if this user may see its patient (same clinic; restricted needs a grant)."""
    try:
        request = RecordsRequest.objects.select_related(
            "patient", "clinic", "authorisation_document"
        ).get(pk=request_id, clinic_id=_clinic_id(user))
    except RecordsRequest.DoesNotExist:
        raise Http404("No such request") from None
    patient_access_check(user, request.patient)
    return request


def records_request_for_view(
    user: User, *, context: AuditContext, request_id: int
) -> RecordsRequest:
    """The request, recorded as a look at the patient's record."""
    request = access_records_request(user, request_id)
    patients_shown(
        context=context,
        patient_ids=[request.patient_id],
        page=AuditObject.RECORDS_REQUEST,
        object_id=request.pk,
    )
    return request


def open_requests_for_view(user: User, *, context: AuditContext) -> list[RecordsRequest]:
    """The clinic's open requests, the one due first at the top (one query and its audit)."""
    requests = list(
        RecordsRequest.objects.filter(clinic_id=_clinic_id(user), status__in=OPEN_STATUSES)
        .select_related("patient")
        .order_by("due_at", "pk")[:LIST_LIMIT]
    )
    patients_shown(
        context=context,
        patient_ids=sorted({r.patient_id for r in requests}),
        page=AuditObject.RECORDS_REQUEST_LIST,
    )
    return requests


def patient_records_requests(patient_id: int) -> QuerySet[RecordsRequest]:
    return RecordsRequest.objects.filter(patient_id=patient_id).order_by("-received_at")[:20]


def accounting_start(today: dt.date) -> dt.date:
    """The first day the accounting covers: six years before today (Feb 29 → Feb 28)."""
    try:
        return today.replace(year=today.year - ACCOUNTING_YEARS)
    except ValueError:
        return today.replace(year=today.year - ACCOUNTING_YEARS, day=28)


def patient_disclosures(patient: Patient, *, since: dt.datetime) -> QuerySet[Disclosure]:
    return Disclosure.objects.filter(patient=patient, disclosed_at__gte=since).order_by(
        "disclosed_at", "pk"
    )


def disclosure_accounting_pdf(
    user: User, *, context: AuditContext, patient_id: int, now: dt.datetime | None = None
) -> tuple[Patient, bytes]:
    """The patient's accounting of disclosures for the last six years, as a PDF; printing it
    is recorded on the patient's access log."""
    patient = access_patient(user, patient_id)
    now = now or timezone.now()
    zone = clinic_zone(patient.clinic_id)
    today = now.astimezone(zone).date()
    start = accounting_start(today)
    since = dt.datetime.combine(start, dt.time()).replace(tzinfo=zone)
    disclosures = [
        (d, d.disclosed_at.astimezone(zone).date())
        for d in patient_disclosures(patient, since=since)
    ]
    pdf = pdf_from_template(
        "records/accounting.html",
        {
            "clinic": patient.clinic,
            "patient": patient,
            "disclosures": disclosures,
            "start": start,
            "today": today,
        },
    )
    patients_shown(
        context=context,
        patient_ids=[patient.pk],
        page=AuditObject.DISCLOSURE_ACCOUNTING,
        object_id=patient.pk,
        detail={"disclosures": len(disclosures), "since": start.isoformat()},
        printed=True,
    )
    return patient, pdf
