"""The demo clinic built on a Sunday is alive too (its own module: the Saturday build of
test_demo_any_day.py is kept for that module's tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine

from frontdesk.demo.services import demo_load
from frontdesk.demo.tests.test_demo_any_day import NY, weekend_visits_and_queue

SUNDAY = dt.datetime(2026, 12, 6, 11, 0, tzinfo=NY)

pytestmark = pytest.mark.django_db


def test_a_demo_built_on_a_sunday_has_visits_today_and_a_queue(tmp_path: Path) -> None:
    with time_machine.travel(SUNDAY, tick=False):
        outcome = demo_load(seed=3, patients=200, credentials_path=tmp_path / "credentials.txt")
    weekend_visits_and_queue(outcome, SUNDAY)
