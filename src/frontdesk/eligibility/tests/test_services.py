"""Checks asked, sent to the simulator over HTTP, answered and recorded; the nightly batch;
what a failed check leaves on the desk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from conftest import Personas
from frontdesk.audit.models import AuditEvent
from frontdesk.clinic.models import AppointmentType
from frontdesk.desk.sources import ROW_FIELDS, desk_sources
from frontdesk.eligibility import answers, queueing, sending, tasks
from frontdesk.eligibility.models import (
    AppointmentTypeServices,
    CheckReason,
    CheckStatus,
    EligibilityCheck,
    EligibilityConnection,
    Outcome,
    VerifyLater,
)
from frontdesk.eligibility.selectors import last_answer, visit_eligibility
from frontdesk.eligibility.simulator import Simulator
from frontdesk.eligibility.tests.conftest import NOW, MakeAppointment, MakeCoverage

pytestmark = pytest.mark.django_db

FRIDAY_NY = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_booking_queues_a_check_for_the_visits_local_date_not_today_nor_coverage_start(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
) -> None:
    coverage = make_coverage()  # effective 2026-01-01
    EligibilityCheck.objects.all().delete()  # the coverage's own check

    visit = make_appointment(coverage.patient, start=FRIDAY_NY)

    check = EligibilityCheck.objects.get(appointment=visit)
    assert check.reason == CheckReason.BOOKING
    assert check.date_of_service == dt.date(2026, 11, 27)
    sending.eligibility_send_due(now=NOW)
    check.refresh_from_db()
    assert "DTP*291*D8*20261127~" in check.request_x12
    assert "20261124" not in check.request_x12.split("DTP*291")[1]  # not the UTC today


def test_saving_a_coverage_queues_one_check_and_a_second_save_adds_none_while_open(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
) -> None:
    coverage = make_coverage()
    coverage.member_id = "W123456780"
    coverage.save()

    check = EligibilityCheck.objects.get(coverage=coverage)
    assert check.reason == CheckReason.COVERAGE
    assert check.date_of_service == dt.date(2026, 11, 23)  # the clinic's today, not UTC's


def test_a_check_sent_to_the_simulator_is_answered_active_with_the_payers_copay(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    visit_type: AppointmentType,
) -> None:
    AppointmentTypeServices.objects.create(appointment_type=visit_type, codes="98")
    coverage = make_coverage(copay="20.00")
    visit = make_appointment(coverage.patient, start=FRIDAY_NY)

    run = sending.eligibility_send_due(now=NOW)

    assert run.answered == 2 and run.failed == 0  # the coverage's check and the visit's
    check = EligibilityCheck.objects.get(appointment=visit)
    assert check.status == CheckStatus.ANSWERED and check.outcome == Outcome.ACTIVE
    assert "EQ*98~" in check.request_x12
    assert check.response_x12.startswith("ISA") and check.parsed["benefits"]["98"]["copay"]
    assert check.from_simulator
    (status,) = visit_eligibility(visit, now=NOW)
    assert status.line == "Verified today · active · co-pay $25 for an office visit"
    assert status.payer_copay == 25 and status.card_copay == 20 and status.copay_differs
    answers = AuditEvent.objects.filter(object_type="eligibility_check", action="system")
    assert any(str(check.pk) in e.detail.get("checks", {}) for e in answers)


def test_a_truncated_271_never_overwrites_the_last_good_answer(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    simulator: Simulator,
) -> None:
    coverage = make_coverage()
    sending.eligibility_send_due(now=NOW)
    good = last_answer(coverage.pk)
    assert good is not None and good.outcome == Outcome.ACTIVE

    simulator.control.mode = "truncated"
    later = NOW + dt.timedelta(hours=1)
    queueing.check_request(
        coverage=coverage,
        date_of_service=dt.date(2026, 11, 30),
        reason=CheckReason.BATCH,
        now=later,
    )
    sending.eligibility_send_due(now=later)

    bad = EligibilityCheck.objects.exclude(pk=good.pk).get()
    assert bad.outcome == Outcome.MALFORMED and bad.status == CheckStatus.FAILED
    assert "not valid X12" in bad.words and "last good answer is kept" in bad.words
    assert bad.response_x12  # kept as received
    assert last_answer(coverage.pk) == good
    assert VerifyLater.objects.filter(coverage=coverage, closed_at__isnull=True).exists()


def test_a_271_about_another_member_is_set_aside(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    simulator: Simulator,
) -> None:
    simulator.control.mode = "other_member"
    coverage = make_coverage()

    sending.eligibility_send_due(now=NOW)

    check = EligibilityCheck.objects.get()
    assert check.outcome == Outcome.OTHER_MEMBER
    assert check.words.startswith("The payer answered about another member")
    assert last_answer(coverage.pk) is None


def test_a_payer_that_times_out_leaves_a_verify_later_item_on_the_desk(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    simulator: Simulator,
    personas: Personas,
) -> None:
    connection.timeout_seconds = 1
    connection.save()
    simulator.control.latency_ms = 1300
    coverage = make_coverage()

    run = sending.eligibility_send_due(now=NOW)

    check = EligibilityCheck.objects.get()
    assert run.retrying == 1 and check.status == CheckStatus.PENDING  # asked again later
    assert check.words == answers.NO_ANSWER_WORDS
    assert check.next_attempt_at > NOW
    source = desk_sources()["eligibility_verify"]
    rows = list(source.rows(clinic_id=personas.clinic.pk, now=NOW))
    assert len(rows) == 1 and set(rows[0]) == set(ROW_FIELDS)
    entry = source.describe([rows[0]["ref"]], now=NOW)[rows[0]["ref"]]
    assert entry.title == "Verify insurance with Acme Health"
    assert "01/02" not in entry.patient_label and "••" in entry.patient_label  # masked

    simulator.control.latency_ms = 0
    later = check.next_attempt_at
    sending.eligibility_send_due(now=later)

    check.refresh_from_db()
    assert check.outcome == Outcome.ACTIVE and check.attempts == 2
    assert not VerifyLater.objects.filter(coverage=coverage, closed_at__isnull=True).exists()
    assert list(source.rows(clinic_id=personas.clinic.pk, now=later)) == []


def test_a_payer_busy_answer_aaa_42_is_asked_again_rather_than_taken_as_the_answer(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    simulator: Simulator,
) -> None:
    simulator.control.reject = "42"
    coverage = make_coverage()

    sending.eligibility_send_due(now=NOW)

    check = EligibilityCheck.objects.get()
    assert check.status == CheckStatus.PENDING and last_answer(coverage.pk) is None


def test_a_subscriber_not_found_is_the_last_answer_in_words(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
) -> None:
    coverage = make_coverage(member_id="W999999999")

    sending.eligibility_send_due(now=NOW)

    answer = last_answer(coverage.pk)
    assert answer is not None and answer.outcome == Outcome.REJECTED
    assert answer.words == "Subscriber not found: check the member ID and birth date"


def test_a_member_id_failing_the_payers_pattern_is_not_sent_and_says_why(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    simulator: Simulator,
) -> None:
    make_coverage(member_id="12-34")

    sending.eligibility_send_due(now=NOW)

    check = EligibilityCheck.objects.get()
    assert check.status == CheckStatus.FAILED
    assert check.words == (
        "Acme Health member IDs look different such as W123456789. Check the card and type "
        "it again."
    )
    assert simulator.answered == {}


def test_the_batch_asks_for_the_next_two_business_days_and_skips_fresh_coverage(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    personas: Personas,
) -> None:
    # Monday 23:30 in New York: the next two business days are Tuesday and Wednesday.
    tuesday = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
    wednesday = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    fresh, stale, later = make_coverage(), make_coverage(), make_coverage()
    for coverage, start in ((fresh, tuesday), (stale, wednesday), (later, FRIDAY_NY)):
        make_appointment(coverage.patient, start=start)
    sending.eligibility_send_due(now=NOW)  # everything answered now
    EligibilityCheck.objects.filter(coverage=stale).update(
        answered_at=NOW - dt.timedelta(days=1, minutes=1)
    )
    before = set(EligibilityCheck.objects.values_list("pk", flat=True))

    queued = queueing.eligibility_batch_queue(clinic=personas.clinic, now=NOW)

    new = EligibilityCheck.objects.exclude(pk__in=before)
    assert queued == 1
    assert [(c.coverage_id, c.date_of_service) for c in new] == [(stale.pk, dt.date(2026, 11, 25))]
    assert queueing.eligibility_batch_queue(clinic=personas.clinic, now=NOW) == 0  # no twice


def test_saving_a_booked_visit_again_asks_nothing_new_within_a_day_of_an_answer(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
) -> None:
    coverage = make_coverage()
    visit = make_appointment(coverage.patient, start=FRIDAY_NY)
    sending.eligibility_send_due(now=NOW)
    asked = EligibilityCheck.objects.count()

    visit.note = "Bring the new card"
    visit.save()

    assert EligibilityCheck.objects.count() == asked


def test_booking_wakes_the_worker_once_committed_and_the_check_is_answered(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
    django_capture_on_commit_callbacks: Any,
) -> None:
    coverage = make_coverage()
    EligibilityCheck.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        visit = make_appointment(coverage.patient, start=FRIDAY_NY)

    assert callbacks  # the worker is woken only after the booking commits
    check = EligibilityCheck.objects.get(appointment=visit)
    assert check.status == CheckStatus.ANSWERED and check.outcome == Outcome.ACTIVE


def test_the_nightly_task_queues_and_sends_the_next_two_business_days(
    connection: EligibilityConnection,
    make_coverage: MakeCoverage,
    make_appointment: MakeAppointment,
) -> None:
    coverage = make_coverage()
    make_appointment(coverage.patient, start=dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC))
    EligibilityCheck.objects.all().delete()

    assert tasks.eligibility_nightly_task.call_local() == 1

    check = EligibilityCheck.objects.get()
    assert check.reason == CheckReason.BATCH and check.status == CheckStatus.ANSWERED
