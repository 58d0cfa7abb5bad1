"""The batch file drop: 270s written whole to outbound/, 271s read from inbound/ and matched to
their checks by the trace they echo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine

from conftest import Personas
from frontdesk.eligibility import answers, sending
from frontdesk.eligibility.models import (
    CheckStatus,
    EligibilityCheck,
    EligibilityConnection,
    Outcome,
    TransportKind,
)
from frontdesk.eligibility.simulator import Control, Table, answer_271, question_read
from frontdesk.eligibility.tests.conftest import NOW, MakeCoverage, members

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_dropped_270_is_answered_by_a_271_file_and_a_second_copy_changes_nothing(
    personas: Personas, make_coverage: MakeCoverage, tmp_path: Path
) -> None:
    EligibilityConnection.objects.create(
        clinic=personas.clinic,
        kind=TransportKind.FILE_DROP,
        drop_directory=str(tmp_path),
        sender_id="RIVERSIDE",
        receiver_id="CLEARINGHOUSE",
        provider_name="Riverside",
        provider_npi="1234567893",
    )
    coverage = make_coverage()

    sending.eligibility_send_due(now=NOW)

    check = EligibilityCheck.objects.get(coverage=coverage)
    assert check.status == CheckStatus.SENDING  # waiting for the clearinghouse's file
    sent = tmp_path / "outbound" / f"{check.trace}.x12"
    assert sent.read_text() == check.request_x12
    answer = answer_271(
        question_read(sent.read_text()), Table.of(members()), Control(), now=NOW, control_no=5
    )
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    (inbound / "answer-1.x12").write_text(answer)
    (inbound / "answer-1-copy.x12").write_text(answer)

    assert answers.eligibility_files_collect(now=NOW) == 2

    check.refresh_from_db()
    assert check.status == CheckStatus.ANSWERED and check.outcome == Outcome.ACTIVE
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == [
        "answer-1-copy.x12",
        "answer-1.x12",
    ]
    assert list(inbound.iterdir()) == []
