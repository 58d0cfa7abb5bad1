from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from conftest import Personas
from frontdesk.billing.triggers import ledger_triggers_create, ledger_triggers_drop
from frontdesk.flow.tests.conftest import (  # noqa: F401  (fixtures shared with the flow tests)
    desk_drawer,
    frozen,
    make_appointment,
    schedule,
    visit_type,
)
from frontdesk.patients.models import Coverage, Patient, Payer


@pytest.fixture
def ledger_triggers_restored(django_db_blocker: Any) -> Iterator[None]:
    """Outer half of `transactional_ledger`: puts the triggers back after the flush."""
    yield
    with django_db_blocker.unblock():
        ledger_triggers_create(connection)


@pytest.fixture
def transactional_ledger(
    ledger_triggers_restored: None, transactional_audit: None
) -> Iterator[None]:
    """For tests that commit: the ledger refuses DELETE (SQLite empties tables with it), so its
    triggers are lifted for the flush, as the audit trail's are."""
    yield
    ledger_triggers_drop(connection)


def coverage_with_copay(
    personas: Personas, patient: Patient, copay: str | None, **fields: Any
) -> Coverage:
    payer, _ = Payer.objects.get_or_create(clinic=personas.clinic, name="Acme Health")
    values: dict[str, Any] = {
        "patient": patient,
        "payer": payer,
        "rank": 1,
        "member_id": "ACM123",
        "effective_date": dt.date(2025, 1, 1),
        "copay": None if copay is None else Decimal(copay),
    }
    values.update(fields)
    return Coverage.objects.create(**values)
