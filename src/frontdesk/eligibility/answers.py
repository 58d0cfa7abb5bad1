"""A payer's answer recorded: the 271 kept as received and judged (a malformed 271 or one
about another member never becomes the coverage's last answer), a check that failed retried
or left to the desk as a "verify later" item, and the 271 files a file-drop payer leaves."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import audit_record
from frontdesk.desk.live import desk_changed
from frontdesk.eligibility import transport, x12
from frontdesk.eligibility.models import (
    GOOD_OUTCOMES,
    CheckReason,
    CheckStatus,
    EligibilityCheck,
    EligibilityConnection,
    Outcome,
    TransportKind,
    VerifyLater,
)
from frontdesk.eligibility.queueing import system_context
from frontdesk.scheduling.models import Appointment

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_PAUSE = dt.timedelta(minutes=10)
NO_ANSWER_WORDS = "Could not verify today: payer did not answer. Proceed and verify later"
# AAA reasons that mean "not now" rather than "no": asked again like a payer that was down.
TRY_LATER = {"42", "80"}


@dataclass(frozen=True)
class AnswerVerdict:
    """What pyx12 and the reader made of a 271 (computed away from the database)."""

    findings: list[str]
    answer: x12.Answer | None
    error: str = ""


def answer_verdict(text: str) -> AnswerVerdict:
    findings = x12.x12_validate(text)
    if findings:
        return AnswerVerdict(findings, None)
    try:
        return AnswerVerdict([], x12.response_read(text))
    except x12.X12Error as exc:
        return AnswerVerdict([], None, str(exc))


@transaction.atomic
def check_answer_record(
    *, check_id: int, x12_text: str, now: dt.datetime, verdict: AnswerVerdict | None = None
) -> str:
    """Keep the 271 as received and what it says. A 271 that pyx12 refuses, that cannot be
    read, or that answers another member or another request is kept but marked so: it never
    becomes the coverage's last answer. Returns the check's new status."""
    check = EligibilityCheck.objects.select_for_update().select_related("coverage").get(pk=check_id)
    return check_answer_apply(check, x12_text, verdict, now=now, audit=True)


def check_answer_apply(
    check: EligibilityCheck,
    x12_text: str,
    verdict: AnswerVerdict | None,
    *,
    now: dt.datetime,
    audit: bool,
) -> str:
    if check.status == CheckStatus.ANSWERED:
        return check.status  # a duplicate answer (a retried file, a slow reply): kept once
    check.response_x12 = x12_text
    verdict = verdict or answer_verdict(x12_text)
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
        return check_failure_record(
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
        context=system_context(check.clinic_id),
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
def check_failure_record(
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
