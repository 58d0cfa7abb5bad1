"""Eligibility writes: a check asked for, claimed and sent by the worker, its answer recorded;
the nightly batch; the desk's "verify now"; the "verify later" item of a check that failed.

A check is a row written in the transaction of its cause; the worker (`eligibility_send_due`)
claims due rows under a lease, builds and validates each 270, sends them with bounded
concurrency (only the HTTP calls run in threads; every database write is in this thread, in
its own short transaction) and records each answer. Nothing here ever blocks the desk: the
desk's own "verify now" waits at most the connection's timeout, once, and says so."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import logging
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import staff_clinic
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.desk.live import desk_changed
from frontdesk.eligibility import transport, x12
from frontdesk.eligibility.estimate import Estimate
from frontdesk.eligibility.models import (
    GOOD_OUTCOMES,
    OPEN_STATUSES,
    AppointmentTypeServices,
    CheckReason,
    CheckStatus,
    EligibilityCheck,
    EligibilityConnection,
    Outcome,
    TransportKind,
    VerifyLater,
)
from frontdesk.eligibility.selectors import (
    CoverageStatus,
    coverage_status,
    last_answer,
    visit_eligibility,
    visit_estimate,
)
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.models import Coverage
from frontdesk.patients.selectors import access_patient
from frontdesk.patients.validation import clean_member_id
from frontdesk.scheduling.business_days import business_days_from
from frontdesk.scheduling.models import Appointment, AppointmentStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
LEASE = dt.timedelta(minutes=5)
RETRY_PAUSE = dt.timedelta(minutes=10)
FRESH = dt.timedelta(days=1)  # the batch skips coverage verified this recently
BATCH_DAYS = 2
RECORD_CHUNK = 50  # answers recorded per transaction when sending many
DEFAULT_SERVICES = "30"
NO_ANSWER_WORDS = "Could not verify today: payer did not answer. Proceed and verify later"
# AAA reasons that mean "not now" rather than "no": asked again like a payer that was down.
TRY_LATER = {"42", "80"}
_ACTIVE_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.CHECKED_IN,
)


class EligibilityRefusedError(Exception):
    """A check that cannot be asked (no connection, a member ID the payer would refuse)."""


def _context(clinic_id: int) -> AuditContext:
    return dataclasses.replace(
        SYSTEM_CONTEXT, clinic_id=clinic_id, purpose="payment: insurance eligibility"
    )


def service_types_for(appointment: Appointment | None) -> str:
    if appointment is None:
        return DEFAULT_SERVICES
    row = AppointmentTypeServices.objects.filter(
        appointment_type_id=appointment.appointment_type_id
    ).first()
    return (row.codes.strip() if row else "") or DEFAULT_SERVICES


def _new_trace() -> str:
    return "EC" + secrets.token_hex(8).upper()


# --- Asking --------------------------------------------------------------------------------------


def check_request(
    *,
    coverage: Coverage,
    date_of_service: dt.date,
    reason: CheckReason,
    now: dt.datetime,
    appointment: Appointment | None = None,
    context: AuditContext | None = None,
) -> EligibilityCheck | None:
    """Queue a check of `coverage` for `date_of_service`; call it in the transaction of its
    cause. A check already open for the same coverage and day is the one that answers: None.
    A clinic with no eligibility connection asks nothing: None."""
    clinic_id = coverage.patient.clinic_id
    if not EligibilityConnection.objects.filter(clinic_id=clinic_id).exists():
        return None
    check = EligibilityCheck(
        clinic_id=clinic_id,
        patient_id=coverage.patient_id,
        coverage=coverage,
        appointment=appointment,
        date_of_service=date_of_service,
        service_types=service_types_for(appointment),
        reason=reason,
        trace=_new_trace(),
        requested_at=now,
        next_attempt_at=now,
    )
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the cause's work intact
            check.save(force_insert=True)
    except IntegrityError:
        held = EligibilityCheck.objects.filter(
            coverage=coverage, date_of_service=date_of_service, status__in=OPEN_STATUSES
        ).first()
        if held is None:
            raise
        if held.status == CheckStatus.PENDING:
            # Not sent yet: it asks about this visit's services too.
            codes = list(dict.fromkeys([*held.service_types.split(), *check.service_types.split()]))
            held.service_types = " ".join(codes)[:60]
            held.appointment_id = held.appointment_id or (appointment.pk if appointment else None)
            held.save(update_fields=["service_types", "appointment"])
        return None
    audit_record(
        context=context or _context(clinic_id),
        action=AuditAction.CREATE,
        patient_ids=[coverage.patient_id],
        object_type=AuditObject.ELIGIBILITY_CHECK,
        object_id=check.pk,
        detail={"reason": reason, "date_of_service": date_of_service.isoformat()},
    )
    return check


def _coverages_in_force(patient_ids: Iterable[int], day: dt.date) -> list[Coverage]:
    return list(
        Coverage.objects.filter(patient_id__in=list(patient_ids))
        .filter(Q(effective_date__isnull=True) | Q(effective_date__lte=day))
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .select_related("patient")
    )


def appointment_checks_request(
    *, appointment: Appointment, reason: CheckReason, now: dt.datetime
) -> int:
    """Queue a check for each coverage of the visit's patient, for the visit's local date."""
    day = appointment.start.astimezone(clinic_zone(appointment.clinic_id)).date()
    coverages = _coverages_in_force([appointment.patient_id], day)
    if not coverages:
        return 0  # nothing to check: every booking of a patient without insurance asks no more
    # Saved again (confirmed, a note) without moving: an answer from the last day still holds.
    fresh = set(
        EligibilityCheck.objects.filter(
            patient_id=appointment.patient_id,
            date_of_service=day,
            answered_at__gte=now - FRESH,
            outcome__in=GOOD_OUTCOMES,
        ).values_list("coverage_id", flat=True)
    )
    queued = 0
    for coverage in coverages:
        if coverage.pk in fresh:
            continue
        if check_request(
            coverage=coverage, date_of_service=day, reason=reason, now=now, appointment=appointment
        ):
            queued += 1
    return queued


def coverage_checks_request(*, coverage: Coverage, now: dt.datetime) -> int:
    """Coverage entered or changed: check it for the patient's next visit (or today)."""
    zone = clinic_zone(coverage.patient.clinic_id)
    upcoming = (
        Appointment.objects.filter(
            patient_id=coverage.patient_id, start__gte=now, status__in=_ACTIVE_STATUSES
        )
        .order_by("start")
        .first()
    )
    day = (upcoming.start if upcoming else now).astimezone(zone).date()
    return int(
        check_request(
            coverage=coverage,
            date_of_service=day,
            reason=CheckReason.COVERAGE,
            now=now,
            appointment=upcoming,
        )
        is not None
    )


@transaction.atomic
def eligibility_batch_queue(*, clinic: Clinic, now: dt.datetime) -> int:
    """The nightly batch: a check per coverage of every visit on the clinic's next two business
    days, skipping coverage answered in the last day and checks already open. One audit event
    names every patient queued."""
    if not EligibilityConnection.objects.filter(clinic=clinic).exists():
        return 0
    zone = clinic_zone(clinic)
    today = now.astimezone(zone).date()
    days = business_days_from(clinic.pk, today, BATCH_DAYS)
    start = dt.datetime.combine(days[0], dt.time(), tzinfo=zone)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    visits = list(
        Appointment.objects.filter(
            clinic=clinic, start__gte=start, start__lt=end, status__in=_ACTIVE_STATUSES
        ).order_by("start")
    )
    fresh = set(
        EligibilityCheck.objects.filter(
            clinic=clinic, answered_at__gte=now - FRESH, outcome__in=GOOD_OUTCOMES
        ).values_list("coverage_id", flat=True)
    )
    open_now = set(
        EligibilityCheck.objects.filter(clinic=clinic, status__in=OPEN_STATUSES).values_list(
            "coverage_id", "date_of_service"
        )
    )
    services = dict(
        AppointmentTypeServices.objects.filter(appointment_type__clinic=clinic).values_list(
            "appointment_type_id", "codes"
        )
    )
    by_patient: dict[int, list[Coverage]] = {}
    for coverage in Coverage.objects.filter(
        patient_id__in={v.patient_id for v in visits}
    ).select_related("patient"):
        by_patient.setdefault(coverage.patient_id, []).append(coverage)
    rows: list[EligibilityCheck] = []
    seen: set[tuple[int, dt.date]] = set()
    for visit in visits:
        day = visit.start.astimezone(zone).date()
        for coverage in by_patient.get(visit.patient_id, ()):
            key = (coverage.pk, day)
            in_force = (coverage.effective_date is None or coverage.effective_date <= day) and (
                coverage.end_date is None or coverage.end_date >= day
            )
            if not in_force or coverage.pk in fresh or key in open_now or key in seen:
                continue
            seen.add(key)
            rows.append(
                EligibilityCheck(
                    clinic=clinic,
                    patient_id=visit.patient_id,
                    coverage=coverage,
                    appointment=visit,
                    date_of_service=day,
                    service_types=(services.get(visit.appointment_type_id) or "").strip()
                    or DEFAULT_SERVICES,
                    reason=CheckReason.BATCH,
                    trace=_new_trace(),
                    requested_at=now,
                    next_attempt_at=now,
                )
            )
    EligibilityCheck.objects.bulk_create(rows, batch_size=500)
    if rows:
        audit_record(
            context=_context(clinic.pk),
            action=AuditAction.CREATE,
            patient_ids={r.patient_id for r in rows},
            object_type=AuditObject.ELIGIBILITY_CHECK,
            detail={
                "reason": CheckReason.BATCH,
                "checks": len(rows),
                "days": [d.isoformat() for d in days],
            },
        )
    return len(rows)


# --- Sending -------------------------------------------------------------------------------------


@dataclass
class SendRun:
    """What one run of the sender did."""

    sent: int = 0
    answered: int = 0
    failed: int = 0
    retrying: int = 0


@dataclass(frozen=True)
class _Claimed:
    check_id: int
    x12: str
    settings: transport.Settings | None  # None: file drop
    drop_directory: str
    simulator: bool


def _inquiry(
    check: EligibilityCheck, connection: EligibilityConnection, now: dt.datetime
) -> x12.Inquiry:
    coverage = check.coverage
    patient = check.patient
    subscriber_is_patient = coverage.relationship == "self" or not coverage.subscriber_name
    last, first = patient.family_name, patient.given_name
    if not subscriber_is_patient:
        first, _, last = coverage.subscriber_name.rpartition(" ")
    return x12.Inquiry(
        sender_id=connection.sender_id,
        receiver_id=connection.receiver_id,
        control_number=check.pk,
        trace=check.trace,
        payer_name=coverage.payer.name,
        payer_id=coverage.payer.payer_id or coverage.payer.name[:20],
        provider_name=connection.provider_name,
        provider_npi=connection.provider_npi,
        member_id=coverage.member_id,
        last_name=last,
        first_name=first,
        birth_date=patient.birth_date if subscriber_is_patient else coverage.subscriber_birth_date,
        date_of_service=check.date_of_service,
        service_types=tuple(check.service_types.split()) or (DEFAULT_SERVICES,),
        now=now,
        production=connection.production,
    )


def _settings(connection: EligibilityConnection) -> transport.Settings:
    return transport.Settings(
        url=connection.url,
        sender_id=connection.sender_id,
        receiver_id=connection.receiver_id,
        timeout=float(connection.timeout_seconds),
        retries=connection.retries,
        username=connection.username,
        password=os.environ.get(connection.password_env, "") if connection.password_env else "",
    )


def _claim(*, now: dt.datetime, limit: int | None, ids: list[int] | None = None) -> list[_Claimed]:
    """Take due checks under a lease (committed before anything is sent), each with its 270
    built (validated by the sender, before it goes out)."""
    with transaction.atomic():
        due = EligibilityCheck.objects.filter(
            Q(status=CheckStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=CheckStatus.SENDING, lease_until__lt=now)
        )
        if ids is not None:
            due = due.filter(pk__in=ids)
        due = due.select_for_update(skip_locked=True).order_by("next_attempt_at", "pk")
        rows = list(due[:limit] if limit else due)
        if not rows:
            return []
        connections = {
            c.clinic_id: c
            for c in EligibilityConnection.objects.filter(clinic_id__in={r.clinic_id for r in rows})
        }
        checks = EligibilityCheck.objects.filter(pk__in=[r.pk for r in rows]).select_related(
            "coverage__payer", "patient"
        )
        claimed: list[_Claimed] = []
        refused: list[tuple[EligibilityCheck, str]] = []
        for check in checks:
            connection = connections.get(check.clinic_id)
            if connection is None:
                refused.append((check, "The clinic has no eligibility connection set up."))
                continue
            payer = check.coverage.payer
            try:
                clean_member_id(
                    check.coverage.member_id,
                    pattern=payer.member_id_pattern,
                    payer_name=payer.name,
                    example=payer.member_id_example,
                )
            except ValidationError as exc:
                # Saved before the payer's pattern was set: the payer would refuse it anyway.
                refused.append((check, " ".join(exc.messages)))
                continue
            request = x12.inquiry_build(_inquiry(check, connection, now))
            check.request_x12 = request
            check.status = CheckStatus.SENDING
            check.lease_until = now + LEASE
            check.attempts += 1
            check.from_simulator = connection.is_simulator
            check.save(
                update_fields=["status", "lease_until", "attempts", "request_x12", "from_simulator"]
            )
            claimed.append(
                _Claimed(
                    check.pk,
                    request,
                    _settings(connection) if connection.kind == TransportKind.CORE_SOAP else None,
                    connection.drop_directory,
                    connection.is_simulator,
                )
            )
    for check, words in refused:
        _record_failure(check.pk, words=words, outcome=Outcome.NO_ANSWER, now=now, final=True)
    return claimed


@dataclass(frozen=True)
class _Verdict:
    """What pyx12 and the reader made of a 271 (computed away from the database)."""

    findings: list[str]
    answer: x12.Answer | None
    error: str = ""


def _verdict(text: str) -> _Verdict:
    findings = x12.x12_validate(text)
    if findings:
        return _Verdict(findings, None)
    try:
        return _Verdict([], x12.response_read(text))
    except x12.X12Error as exc:
        return _Verdict([], None, str(exc))


@dataclass(frozen=True)
class _Result:
    kind: str  # ok, no_answer, refused, invalid_request, dropped
    x12: str | None = None
    words: str = ""
    verdict: _Verdict | None = None


_Run = Callable[..., Any]


def _send(item: _Claimed, now: dt.datetime, run_cpu: _Run | None = None) -> _Result:
    """Runs in a sender thread: no database here. pyx12's work (the 270 before it goes out,
    the 271 when it comes back) runs through `run_cpu`, a process pool when sending many at
    once, so validation uses every core rather than the one the threads share."""
    findings = _cpu(run_cpu, x12.x12_validate, item.x12)
    if findings:
        return _Result("invalid_request", words=f"The request is not valid X12: {findings[0]}")
    if item.settings is None:
        # Batch file drop: the 271 arrives later in the inbound folder (eligibility_files_collect).
        transport.file_drop_send(item.drop_directory, trace=_trace_of(item), x12=item.x12)
        return _Result("dropped")
    try:
        reply = transport.core_send(
            item.settings, x12=item.x12, payload_id=_trace_of(item), now=now
        )
    except transport.NoAnswerError as exc:
        return _Result("no_answer", words=str(exc))
    except transport.RefusedError as exc:
        return _Result("refused", words=str(exc))
    return _Result("ok", reply.x12, verdict=_cpu(run_cpu, _verdict, reply.x12))


def _cpu(run_cpu: _Run | None, function: Callable[[str], Any], text: str) -> Any:
    if run_cpu is None:
        return function(text)
    return run_cpu(function, text).result()


def _trace_of(item: _Claimed) -> str:
    # BHT03 holds the trace in the 270 this module built.
    for line in item.x12.splitlines():
        if line.startswith("BHT*"):
            return line.split("*")[3]
    return str(item.check_id)


def eligibility_send_due(
    *,
    now: dt.datetime,
    limit: int | None = 500,
    concurrency: int | None = None,
    ids: list[int] | None = None,
) -> SendRun:
    """Send the due checks, at most `concurrency` at a time (default: the smallest of the
    clinics' connection settings), and record every answer."""
    claimed = _claim(now=now, limit=limit, ids=ids)
    run = SendRun()
    if not claimed:
        return run
    width = concurrency or max(
        1,
        min(
            EligibilityConnection.objects.filter(
                clinic_id__in=EligibilityCheck.objects.filter(
                    pk__in=[c.check_id for c in claimed]
                ).values("clinic_id")
            ).values_list("concurrency", flat=True),
            default=1,
        ),
    )
    run.sent = len(claimed)
    if width == 1:
        for item in claimed:
            _tally(run, _record(item, _send(item, now), now=now))
        return run
    # Threads wait on the network; pyx12 runs in processes (CPU); answers are recorded in
    # this thread, RECORD_CHUNK to a transaction.
    cpu = concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count() or 2)
    done: list[tuple[_Claimed, _Result]] = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=width) as pool:
            futures = {pool.submit(_send, item, now, cpu.submit): item for item in claimed}
            for future in concurrent.futures.as_completed(futures):
                done.append((futures[future], future.result()))
                if len(done) >= RECORD_CHUNK:
                    _record_chunk(run, done, now=now)
                    done = []
        _record_chunk(run, done, now=now)
    finally:
        cpu.shutdown(wait=True)
    return run


@transaction.atomic
def _record_chunk(run: SendRun, done: list[tuple[_Claimed, _Result]], *, now: dt.datetime) -> None:
    """Record a chunk of answers in one transaction: the checks read in one query, one audit
    event naming every patient and check of the chunk."""
    answered = (
        EligibilityCheck.objects.select_for_update()
        .select_related("coverage")
        .in_bulk([item.check_id for item, result in done if result.kind == "ok"])
    )
    recorded: list[EligibilityCheck] = []
    for item, result in done:
        check = answered.get(item.check_id)
        if check is not None and result.x12 is not None:
            status = _answer_apply(check, result.x12, result.verdict, now=now, audit=False)
            recorded.append(check)
        else:
            status = _record(item, result, now=now)
        _tally(run, status)
    if recorded:
        by_clinic: dict[int, list[EligibilityCheck]] = {}
        for check in recorded:
            by_clinic.setdefault(check.clinic_id, []).append(check)
        for clinic_id, checks in by_clinic.items():
            audit_record(
                context=_context(clinic_id),
                action=AuditAction.SYSTEM,
                patient_ids={c.patient_id for c in checks},
                object_type=AuditObject.ELIGIBILITY_CHECK,
                detail={
                    "event": "answers",
                    "checks": {str(c.pk): c.outcome or c.status for c in checks},
                },
            )


def _tally(run: SendRun, status: str) -> None:
    if status == CheckStatus.ANSWERED:
        run.answered += 1
    elif status == CheckStatus.FAILED:
        run.failed += 1
    elif status == CheckStatus.PENDING:
        run.retrying += 1


def _record(item: _Claimed, result: _Result, *, now: dt.datetime) -> str:
    if result.kind == "dropped":
        return CheckStatus.SENDING
    if result.kind == "ok" and result.x12 is not None:
        return check_answer_record(
            check_id=item.check_id, x12_text=result.x12, now=now, verdict=result.verdict
        )
    if result.kind in {"refused", "invalid_request"}:
        return _record_failure(
            item.check_id,
            words=result.words or "The payer refused the request.",
            outcome=Outcome.NO_ANSWER,
            now=now,
            final=True,
        )
    return _record_failure(
        item.check_id,
        words=NO_ANSWER_WORDS,
        outcome=Outcome.NO_ANSWER,
        now=now,
        final=False,
        detail=result.words,
    )


@transaction.atomic
def check_answer_record(
    *, check_id: int, x12_text: str, now: dt.datetime, verdict: _Verdict | None = None
) -> str:
    """Keep the 271 as received and what it says. A 271 that pyx12 refuses, that cannot be
    read, or that answers another member or another request is kept but marked so: it never
    becomes the coverage's last answer. Returns the check's new status."""
    check = EligibilityCheck.objects.select_for_update().select_related("coverage").get(pk=check_id)
    return _answer_apply(check, x12_text, verdict, now=now, audit=True)


def _answer_apply(
    check: EligibilityCheck,
    x12_text: str,
    verdict: _Verdict | None,
    *,
    now: dt.datetime,
    audit: bool,
) -> str:
    if check.status == CheckStatus.ANSWERED:
        return check.status  # a duplicate answer (a retried file, a slow reply): kept once
    check.response_x12 = x12_text
    verdict = verdict or _verdict(x12_text)
    findings = verdict.findings
    outcome: Outcome
    words: str
    parsed: dict[str, object] = {}
    if findings:
        outcome, words = (
            Outcome.MALFORMED,
            (
                "The payer's answer is not valid X12 (" + findings[0][:120] + "): the last good "
                "answer is kept"
            ),
        )
    elif verdict.answer is None:
        outcome, words = Outcome.MALFORMED, f"{verdict.error} The last good answer is kept"
    else:
        parsed = verdict.answer.as_json()
        outcome, words = _judge(check, verdict.answer)
    if (
        outcome == Outcome.REJECTED
        and {
            r["code"]
            for r in parsed.get("rejections", [])  # type: ignore[attr-defined]
        }
        & TRY_LATER
    ):
        check.save(update_fields=["response_x12"])
        return _record_failure(
            check.pk,
            words=NO_ANSWER_WORDS,
            outcome=Outcome.NO_ANSWER,
            now=now,
            final=False,
            detail=words,
        )
    check.status = CheckStatus.ANSWERED if outcome in GOOD_OUTCOMES else CheckStatus.FAILED
    check.outcome = outcome
    check.words = words[:300]
    check.parsed = parsed
    check.answered_at = now
    check.lease_until = None
    check.save()
    if audit:
        _audit_outcome(check)
    if outcome in GOOD_OUTCOMES:
        closed = VerifyLater.objects.filter(coverage=check.coverage, closed_at__isnull=True).update(
            closed_at=now
        )
        if closed:
            desk_changed(check.clinic_id)
    else:
        _verify_later_open(check, now=now)
    return check.status


def _norm(member_id: str) -> str:
    return "".join(ch for ch in member_id.upper() if ch.isalnum())


def _judge(check: EligibilityCheck, answer: x12.Answer) -> tuple[Outcome, str]:
    if answer.trace and answer.trace != check.trace:
        return Outcome.OTHER_MEMBER, (
            "The payer's answer is for another request: it was set aside and the last good "
            "answer is kept"
        )
    if _norm(answer.member_id) != _norm(check.coverage.member_id):
        return Outcome.OTHER_MEMBER, (
            "The payer answered about another member: the answer was set aside and the last "
            "good answer is kept"
        )
    if answer.rejections:
        return Outcome.REJECTED, answer.rejections[0]["words"]
    if answer.active:
        return Outcome.ACTIVE, "Active" + (
            f" · {answer.plan_name.title()}" if answer.plan_name else ""
        )
    return Outcome.INACTIVE, "Not active on the date of service"


def _audit_outcome(check: EligibilityCheck) -> None:
    audit_record(
        context=_context(check.clinic_id),
        action=AuditAction.SYSTEM,
        patient_ids=[check.patient_id],
        object_type=AuditObject.ELIGIBILITY_CHECK,
        object_id=check.pk,
        detail={
            "event": "answer",
            "status": check.status,
            "outcome": check.outcome,
            "attempts": check.attempts,
        },
    )


@transaction.atomic
def _record_failure(
    check_id: int,
    *,
    words: str,
    outcome: Outcome,
    now: dt.datetime,
    final: bool,
    detail: str = "",
) -> str:
    check = EligibilityCheck.objects.select_for_update().get(pk=check_id)
    if check.status == CheckStatus.ANSWERED:
        return check.status
    retry = not final and check.attempts < MAX_ATTEMPTS and check.reason != CheckReason.CHECK_IN
    check.status = CheckStatus.PENDING if retry else CheckStatus.FAILED
    check.next_attempt_at = now + RETRY_PAUSE * max(check.attempts, 1)
    check.lease_until = None
    check.outcome = outcome
    check.words = words[:300]
    if detail:
        check.parsed = {"transport": detail[:300]}
    if not retry:
        check.answered_at = now
    check.save()
    _audit_outcome(check)
    _verify_later_open(check, now=now)
    return check.status


def _verify_later_open(check: EligibilityCheck, *, now: dt.datetime) -> None:
    if VerifyLater.objects.filter(coverage_id=check.coverage_id, closed_at__isnull=True).exists():
        return
    due = None
    if check.appointment_id:
        due = (
            Appointment.objects.filter(pk=check.appointment_id)
            .values_list("start", flat=True)
            .first()
        )
    VerifyLater.objects.create(
        clinic_id=check.clinic_id,
        patient_id=check.patient_id,
        coverage_id=check.coverage_id,
        appointment_id=check.appointment_id,
        source_check=check,
        created_at=now,
        due=due,
    )
    desk_changed(check.clinic_id)


# --- The desk ------------------------------------------------------------------------------------


def eligibility_verify_now(
    *, context: AuditContext, appointment: Appointment, now: dt.datetime
) -> list[EligibilityCheck]:
    """The desk's "verify now" at check-in: a check per coverage for the visit's date, sent at
    once, once, within the connection's timeout. A payer that does not answer leaves the
    desk a "verify later" item; check-in goes on regardless. Each step is its own short
    transaction, so nothing is held open while the payer is asked."""
    day = appointment.start.astimezone(clinic_zone(appointment.clinic_id)).date()
    ids: list[int] = []
    with transaction.atomic():
        for coverage in _coverages_in_force([appointment.patient_id], day):
            check = check_request(
                coverage=coverage,
                date_of_service=day,
                reason=CheckReason.CHECK_IN,
                now=now,
                appointment=appointment,
                context=context,
            )
            if check is None:  # one already open: send it now rather than wait for it
                check = EligibilityCheck.objects.filter(
                    coverage=coverage, date_of_service=day, status__in=OPEN_STATUSES
                ).first()
                if check is None:
                    continue
                EligibilityCheck.objects.filter(pk=check.pk).update(
                    next_attempt_at=now, reason=CheckReason.CHECK_IN
                )
            ids.append(check.pk)
    if ids:
        eligibility_send_due(now=now, limit=None, concurrency=1, ids=ids)
    return list(EligibilityCheck.objects.filter(pk__in=ids).order_by("coverage__rank"))


def eligibility_verify_now_for_desk(
    *, user: User, context: AuditContext, appointment_id: int, now: dt.datetime
) -> tuple[list[CoverageStatus], Estimate | None]:
    """ "Verify now" from the check-in page: the visit (same clinic, a patient this user may
    see), asked now, and each coverage as check-in then shows it."""
    appointment = Appointment.objects.filter(
        pk=appointment_id, clinic_id=staff_clinic(user).pk
    ).first()
    if appointment is None:
        raise Http404("No such appointment")
    access_patient(user, appointment.patient_id)
    eligibility_verify_now(context=context, appointment=appointment, now=now)
    statuses = visit_eligibility(appointment, now=now)
    return statuses, visit_estimate(appointment, statuses)


@transaction.atomic
def verify_later_close_for_patient(
    *, user: User, context: AuditContext, patient_id: int, now: dt.datetime
) -> int:
    """The desk verified the patient's insurance another way (a call, the payer's portal):
    their open "verify later" items close. Returns how many."""
    patient = access_patient(user, patient_id)
    items = list(VerifyLater.objects.filter(patient=patient, closed_at__isnull=True))
    if not items:
        return 0
    VerifyLater.objects.filter(pk__in=[i.pk for i in items]).update(closed_at=now)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[patient.pk],
        object_type=AuditObject.ELIGIBILITY_CHECK,
        object_id="",
        detail={"event": "verified another way", "items": len(items)},
    )
    desk_changed(patient.clinic_id)
    return len(items)


# --- File drop -----------------------------------------------------------------------------------


def eligibility_files_collect(*, now: dt.datetime) -> int:
    """Read the 271 files in each file-drop connection's inbound folder; each is matched to its
    check by the trace it echoes (TRN02), recorded, then moved to `done/`."""
    recorded = 0
    for connection in EligibilityConnection.objects.filter(kind=TransportKind.FILE_DROP):
        for path, text in transport.file_drop_collect(connection.drop_directory):
            trace = ""
            with contextlib.suppress(x12.X12Error):  # unreadable: recorded below as no match
                trace = x12.response_read(text).trace
            check_id = (
                EligibilityCheck.objects.filter(clinic_id=connection.clinic_id, trace=trace)
                .values_list("pk", flat=True)
                .first()
            )
            done = path.parent.parent / "done"
            done.mkdir(exist_ok=True)
            if check_id is not None:
                check_answer_record(check_id=check_id, x12_text=text, now=now)
                recorded += 1
            else:
                logger.warning("eligibility: a 271 file matched no check; moved to done/")
            path.replace(done / path.name)
    return recorded


@transaction.atomic
def coverage_copay_from_payer(
    *, user: User, context: AuditContext, coverage_id: int, check_id: int
) -> Decimal:
    """Set the coverage's co-pay to the one in the payer's answer `check_id` (the answer the
    officer was shown). Refused if that answer is no longer the payer's last word."""
    coverage = Coverage.objects.select_for_update().filter(pk=coverage_id).first()
    if coverage is None:
        raise Http404("No such coverage")
    access_patient(user, coverage.patient_id)
    shown = last_answer(coverage.pk)
    if shown is None or shown.pk != check_id:
        raise EligibilityRefusedError(
            "The payer has answered again since this page was shown: look at the new answer."
        )
    statuses = [s for s in visit_eligibility_for_check(shown) if s.coverage.pk == coverage.pk]
    copay = statuses[0].payer_copay if statuses else None
    if copay is None:
        raise EligibilityRefusedError("The payer's answer gives no co-pay for this visit.")
    before = coverage.copay
    # An update, not save(): the payer's own figure needs no new question to the payer.
    Coverage.objects.filter(pk=coverage.pk).update(copay=copay)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[coverage.patient_id],
        object_type=AuditObject.ELIGIBILITY_CHECK,
        object_id=shown.pk,
        detail={
            "event": "co-pay taken from the payer",
            "coverage": coverage.pk,
            "before": str(before) if before is not None else None,
            "after": str(copay),
        },
    )
    return copay


def visit_eligibility_for_check(check: EligibilityCheck) -> list[CoverageStatus]:
    """Each coverage as check-in shows it, for the visit the check was about (or a plain
    general-coverage reading when it was about no visit)."""
    if check.appointment_id is not None:
        visit = Appointment.objects.filter(pk=check.appointment_id).first()
        if visit is not None:
            return visit_eligibility(visit, now=check.answered_at or check.requested_at)
    return [
        coverage_status(
            check.coverage,
            day=check.date_of_service,
            services=check.service_types,
            now=check.answered_at or check.requested_at,
        )
    ]
