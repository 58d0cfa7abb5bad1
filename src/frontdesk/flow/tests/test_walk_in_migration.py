"""The index allowing one open walk-in per patient and day can be added to a busy database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conftest import Personas, make_patient
from frontdesk.flow.models import QueueEntry, QueueEvent
from frontdesk.patients.models import Patient

BEFORE = [("flow", "0008_drop_playbooks_kept_by_the_playbooks_app")]
AFTER = [("flow", "0009_one_open_walk_in_per_patient_and_day")]
DAY = dt.date(2026, 11, 23)
MORNING = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)


def test_walk_ins_open_twice_before_the_index_keep_the_first_and_mark_the_later_left(
    transactional_audit: None, personas: Personas, patient: Patient
) -> None:
    other = make_patient(personas.clinic, given_name="Jane")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        OldQueue = old.get_model("flow", "Queue")  # noqa: N806
        OldEntry = old.get_model("flow", "QueueEntry")  # noqa: N806
        queue = OldQueue.objects.create(clinic_id=personas.clinic.pk, name="Walk-ins", code="W")

        def walk_in(who: Patient, number: int, minutes: int, status: str = "waiting") -> Any:
            at = MORNING + dt.timedelta(minutes=minutes)
            return OldEntry.objects.create(
                clinic_id=personas.clinic.pk,
                queue_id=queue.pk,
                patient_id=who.pk,
                day=DAY,
                number=number,
                ticket=f"W{number:03d}",
                status=status,
                checked_in_at=at,
                status_changed_at=at,
            )

        first = walk_in(patient, 1, 0, "called")
        second = walk_in(patient, 2, 5)
        third = walk_in(patient, 3, 9)
        finished = walk_in(patient, 4, -60, "done")
        alone = walk_in(other, 5, 7)
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    statuses = dict(QueueEntry.objects.values_list("pk", "status"))
    assert statuses == {
        first.pk: "called",
        second.pk: "left",
        third.pk: "left",
        finished.pk: "done",
        alone.pk: "waiting",
    }
    events = QueueEvent.objects.order_by("entry_id")
    assert [(e.entry_id, e.from_status, e.to_status) for e in events] == [
        (second.pk, "waiting", "left"),
        (third.pk, "waiting", "left"),
    ]
