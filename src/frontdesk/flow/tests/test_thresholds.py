from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from frontdesk.flow.selectors import time_level
from frontdesk.flow.thresholds import DEFAULT, parse_thresholds


def test_the_default_thresholds_cover_every_status_a_patient_waits_in() -> None:
    assert parse_thresholds(DEFAULT) == {
        "waiting": (15, 30),
        "called": (5, 10),
        "in_room": (10, 20),
        "with_provider": (30, 60),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("waiting=15", "should look like waiting=15/30"),
        ("sleeping=5/10", "should look like waiting=15/30"),
        ("waiting=30/15", "amber must be above 0 and below red"),
        ("waiting=0/15", "amber must be above 0 and below red"),
        ("waiting=a/b", "should look like"),
    ],
)
def test_a_bad_threshold_stops_start_up_with_a_plain_message(text: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_thresholds(text)


def test_cards_turn_amber_then_red_at_the_configured_minutes(settings: object) -> None:
    settings.FLOW_THRESHOLDS = parse_thresholds("waiting=2/4")  # type: ignore[attr-defined]
    assert [time_level("waiting", m) for m in (0, 1, 2, 3, 4, 90)] == [
        "ok",
        "ok",
        "amber",
        "amber",
        "red",
        "red",
    ]
    assert time_level("called", 500) == "ok"  # no threshold set for it
