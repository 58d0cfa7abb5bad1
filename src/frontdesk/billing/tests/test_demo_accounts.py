from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from conftest import kept_for_module
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.demo.bulk import _demo_money
from frontdesk.demo.services import demo_load
from frontdesk.patients.models import Coverage

PATIENTS = 600


@pytest.fixture(scope="module")
def built(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The demo clinic, built once for the module (600 patients take seconds): its tests only
    count what it holds."""
    folder = tmp_path_factory.mktemp("demo")

    def build() -> None:
        demo_load(
            seed=11,
            patients=PATIENTS,
            credentials_path=folder / "c.txt",
            today=dt.date(2025, 6, 15),
        )

    yield from kept_for_module(django_db_blocker, build, MEDIA_ROOT=folder / "media")


@pytest.fixture
def demo(db: None, built: None) -> None:
    pass


def test_about_one_demo_patient_in_ten_owes_a_small_balance(demo: None) -> None:
    charges = list(LedgerEntry.objects.values_list("kind", "amount", "patient_id"))
    assert 0.06 * PATIENTS <= len(charges) <= 0.14 * PATIENTS
    assert len({patient for _, _, patient in charges}) == len(charges)
    assert all(kind == EntryKind.CHARGE for kind, _, _ in charges)
    assert all(Decimal("15.00") <= amount <= Decimal("250.00") for _, amount, _ in charges)


def test_about_one_demo_patient_in_ten_has_a_copay_on_the_primary_plan(demo: None) -> None:
    with_copay = list(Coverage.objects.filter(copay__isnull=False).values_list("rank", "copay"))
    insured = Coverage.objects.filter(rank=1).count()
    assert 0.06 * insured <= len(with_copay) <= 0.14 * insured
    assert {rank for rank, _ in with_copay} == {1}
    assert all(
        copay is not None and Decimal("10.00") <= copay <= Decimal("40.00")
        for _, copay in with_copay
    )


def test_the_demo_accounts_come_from_the_seed() -> None:
    mrns = [f"M{i:06d}" for i in range(500)]
    first = _demo_money(random.Random("frontdesk-demo:3:accounts"), mrns)
    assert first == _demo_money(random.Random("frontdesk-demo:3:accounts"), mrns)
    assert first != _demo_money(random.Random("frontdesk-demo:4:accounts"), mrns)
