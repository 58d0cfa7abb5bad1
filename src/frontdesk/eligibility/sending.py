"""The worker's sender: due checks claimed under a lease, each 270 built and validated, sent
with bounded concurrency, and every answer recorded.

Only the HTTP calls run in threads and pyx12 in a process pool; every database write is in
the calling thread, in its own short transaction, RECORD_CHUNK answers to a transaction when
sending many."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import audit_record
from frontdesk.eligibility import transport, x12
from frontdesk.eligibility.answers import (
    NO_ANSWER_WORDS,
    AnswerVerdict,
    answer_verdict,
    check_answer_apply,
    check_answer_record,
    check_failure_record,
)
from frontdesk.eligibility.models import (
    CheckStatus,
    EligibilityCheck,
    EligibilityConnection,
    Outcome,
    TransportKind,
)
from frontdesk.eligibility.queueing import DEFAULT_SERVICES, system_context
from frontdesk.patients.validation import clean_member_id

LEASE = dt.timedelta(minutes=5)
RECORD_CHUNK = 50  # answers recorded per transaction when sending many


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
        check_failure_record(check.pk, words=words, outcome=Outcome.NO_ANSWER, now=now, final=True)
    return claimed


@dataclass(frozen=True)
class _Result:
    kind: str  # ok, no_answer, refused, invalid_request, dropped
    x12: str | None = None
    words: str = ""
    verdict: AnswerVerdict | None = None


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
    return _Result("ok", reply.x12, verdict=_cpu(run_cpu, answer_verdict, reply.x12))


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
            status = check_answer_apply(check, result.x12, result.verdict, now=now, audit=False)
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
                context=system_context(clinic_id),
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
        return check_failure_record(
            item.check_id,
            words=result.words or "The payer refused the request.",
            outcome=Outcome.NO_ANSWER,
            now=now,
            final=True,
        )
    return check_failure_record(
        item.check_id,
        words=NO_ANSWER_WORDS,
        outcome=Outcome.NO_ANSWER,
        now=now,
        final=False,
        detail=result.words,
    )
