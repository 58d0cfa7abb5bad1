"""Reads of calls, callbacks, contacts and questions. `access_*` fetch and authorise in one
call (same clinic, restricted records through `patient_access_check`); `*_for_view` also
record the read in the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Provider
from frontdesk.desk.pools import Pool, pools_of_role
from frontdesk.inquiries.models import (
    Callback,
    CallbackAttempt,
    Inquiry,
    InquirySettings,
    MedicalQuestion,
    PatientContact,
    TaskStatus,
    UsualProvider,
)
from frontdesk.inquiries.red_flags import RedFlagMatch, red_flags_find
from frontdesk.inquiries.settings_rules import inquiry_settings, red_flag_list
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import (
    access_patient,
    patient_access_check,
    patient_search_for_view,
)

OPEN = (TaskStatus.REQUESTED, TaskStatus.IN_PROGRESS)


def _not_found(what: str) -> Http404:
    return Http404(f"No such {what}")


def _clinic_of(user: User) -> int:
    if user.clinic_id is None:
        raise _not_found("record")
    return user.clinic_id


def access_inquiry(user: User, inquiry_id: int) -> Inquiry:
    inquiry = (
        Inquiry.objects.select_related("patient", "contact", "created_by")
        .filter(pk=inquiry_id, clinic_id=_clinic_of(user))
        .first()
    )
    if inquiry is None or user.clinic_id is None:
        raise _not_found("call")
    if inquiry.patient is not None:
        inquiry.patient = patient_access_check(user, inquiry.patient)
    return inquiry


def access_callback(user: User, callback_id: int) -> Callback:
    callback = (
        Callback.objects.select_related("patient", "inquiry", "owner")
        .filter(pk=callback_id, clinic_id=_clinic_of(user))
        .first()
    )
    if callback is None or user.clinic_id is None:
        raise _not_found("callback")
    if callback.patient is not None:
        callback.patient = patient_access_check(user, callback.patient)
    return callback


def access_question(user: User, question_id: int) -> MedicalQuestion:
    question = (
        MedicalQuestion.objects.select_related(
            "patient", "inquiry", "owner", "answered_by", "relayed_by", "created_by"
        )
        .filter(pk=question_id, clinic_id=_clinic_of(user))
        .first()
    )
    if question is None or user.clinic_id is None:
        raise _not_found("question")
    question.patient = patient_access_check(user, question.patient)
    return question


def _audit_view(
    context: AuditContext, kind: AuditObject, pk: int | str, patient_ids: list[int]
) -> None:
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=patient_ids,
        object_type=kind,
        object_id=pk,
    )


def call_for_view(user: User, *, context: AuditContext, inquiry_id: int) -> Inquiry:
    inquiry = access_inquiry(user, inquiry_id)
    _audit_view(
        context, AuditObject.INQUIRY, inquiry.pk, [inquiry.patient_id] if inquiry.patient_id else []
    )
    return inquiry


@dataclass(frozen=True)
class CallbackPage:
    callback: Callback
    attempts: list[CallbackAttempt]
    max_attempts: int


def callback_for_view(user: User, *, context: AuditContext, callback_id: int) -> CallbackPage:
    callback = access_callback(user, callback_id)
    _audit_view(
        context,
        AuditObject.CALLBACK,
        callback.pk,
        [callback.patient_id] if callback.patient_id else [],
    )
    attempts = list(callback.attempt_log.select_related("by"))
    rules = inquiry_settings(callback.clinic_id)
    return CallbackPage(callback, attempts, rules.callback_max_attempts)


def callbacks_open(user: User) -> QuerySet[Callback]:
    return (
        Callback.objects.filter(clinic_id=_clinic_of(user), status__in=OPEN)
        .select_related("patient", "inquiry")
        .order_by("due", "pk")
    )


def callbacks_for_view(user: User, *, context: AuditContext) -> list[Callback]:
    callbacks = list(callbacks_open(user)[:200])
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[c.patient_id for c in callbacks if c.patient_id],
        object_type=AuditObject.CALLBACK_LIST,
    )
    return callbacks


def question_for_view(user: User, *, context: AuditContext, question_id: int) -> MedicalQuestion:
    question = access_question(user, question_id)
    _audit_view(context, AuditObject.MEDICAL_QUESTION, question.pk, [question.patient_id])
    return question


def questions_of_pools(user: User, now: dt.datetime) -> list[MedicalQuestion]:
    """The questions waiting for this user's pools (and owned by them), red flags first, then by
    deadline; a supervisor sees those past their deadline."""
    questions = MedicalQuestion.objects.filter(
        clinic_id=_clinic_of(user), status=TaskStatus.REQUESTED
    ).select_related("patient", "owner")
    pools = pools_of_role(user.role)
    if Pool.SUPERVISORS in pools:
        questions = questions.filter(due__lt=now)
    else:
        mine = [p.value for p in pools if p in (Pool.NURSE_TRIAGE, Pool.CLINICIANS)]
        # The pool's questions no one owns, and those routed to this clinician by name.
        questions = questions.filter(Q(pool__in=mine, owner__isnull=True) | Q(owner=user))
    return list(questions.order_by("-red_flag", "due", "pk")[:200])


def questions_for_view(
    user: User, *, context: AuditContext, now: dt.datetime
) -> list[MedicalQuestion]:
    questions = questions_of_pools(user, now)
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[q.patient_id for q in questions],
        object_type=AuditObject.MEDICAL_QUESTION_LIST,
    )
    return questions


def patient_for_call(user: User, patient_id: int) -> Patient:
    """The patient a call is logged for (PATIENT_VIEW, same clinic, restricted rules)."""
    return access_patient(user, patient_id)


def patient_contacts(patient: Patient) -> list[PatientContact]:
    return list(PatientContact.objects.filter(patient=patient))


def red_flags_in(clinic_id: int, text: str) -> list[RedFlagMatch]:
    """The clinic's red-flag phrases found in `text` (nothing is read from any record)."""
    return red_flags_find(text, red_flag_list(inquiry_settings(clinic_id)))


@dataclass(frozen=True)
class ChartThreads:
    contacts: list[PatientContact]
    questions: list[MedicalQuestion]
    calls: list[Inquiry]
    usual_provider: str
    usual_provider_id: int | None
    providers: list[tuple[int, str]]  # the clinic's providers, for those who may record one


def chart_threads(user: User, patient: Patient) -> ChartThreads:
    """The chart's part: the contact list, the questions' threads, recent calls, the usual
    provider and (for the desk) the providers to choose from: five queries at most; the chart's
    own VIEW event covers them."""
    contacts = patient_contacts(patient) if role_may(user.role, Action.PATIENT_VIEW) else []
    may_see = role_may(user.role, Action.INQUIRY_VIEW)
    questions = (
        list(
            MedicalQuestion.objects.filter(patient=patient)
            .select_related("answered_by", "relayed_by", "created_by")
            .order_by("-created_at")[:20]
        )
        if may_see
        else []
    )
    calls = (
        list(
            Inquiry.objects.filter(patient=patient)
            .select_related("created_by")
            .order_by("-created_at")[:10]
        )
        if may_see
        else []
    )
    usual = UsualProvider.objects.select_related("provider").filter(patient=patient).first()
    providers = (
        [
            (pk, f"{given} {family}")
            for pk, given, family in Provider.objects.filter(
                clinic_id=patient.clinic_id, is_active=True
            )
            .order_by("family_name", "given_name")
            .values_list("pk", "given_name", "family_name")
        ]
        if role_may(user.role, Action.CONTACT_MANAGE)
        else []
    )
    return ChartThreads(
        contacts,
        questions,
        calls,
        f"{usual.provider.given_name} {usual.provider.family_name}" if usual and may_see else "",
        usual.provider_id if usual else None,
        providers,
    )


@dataclass(frozen=True)
class CallPage:
    patient: Patient | None
    contacts: list[PatientContact]
    query: str
    results: list[Patient]


def call_page_for_view(
    user: User, *, context: AuditContext, patient_id: int | None, query: str
) -> CallPage:
    """The patient a call is about (and their contacts), or the search for them; audited as a
    look at the patient, or as a search."""
    if patient_id is not None:
        patient = access_patient(user, patient_id)
        _audit_view(context, AuditObject.PATIENT_CONTACT, patient.pk, [patient.pk])
        return CallPage(patient, patient_contacts(patient), "", [])
    query = query.strip()
    if not query:
        return CallPage(None, [], "", [])
    parsed, results = patient_search_for_view(user, context=context, query=query)
    return CallPage(None, [], parsed.text, results[:20])


def caller_verdict_for_view(
    user: User, *, context: AuditContext, patient_id: int, contact_id: int | None
) -> tuple[Patient, PatientContact | None]:
    """The patient and the chosen contact, for the disclosure sentence (audited)."""
    patient = access_patient(user, patient_id)
    contact = (
        PatientContact.objects.filter(pk=contact_id, patient=patient).first()
        if contact_id is not None
        else None
    )
    _audit_view(context, AuditObject.PATIENT_CONTACT, contact.pk if contact else "", [patient.pk])
    return patient, contact


def contact_for_view(
    user: User, *, context: AuditContext, patient_id: int, contact_id: int | None
) -> tuple[Patient, PatientContact | None]:
    """The patient and one of their contacts (404 if not theirs), for the contact form."""
    patient = access_patient(user, patient_id)
    contact = None
    if contact_id is not None:
        contact = PatientContact.objects.filter(pk=contact_id, patient=patient).first()
        if contact is None:
            raise _not_found("contact")
    _audit_view(context, AuditObject.PATIENT_CONTACT, contact.pk if contact else "", [patient.pk])
    return patient, contact


def settings_for_view(user: User) -> InquirySettings:
    """The clinic's settings (no patient data, not audited as a read)."""
    if user.clinic_id is None:
        raise _not_found("clinic")
    return inquiry_settings(user.clinic_id)
