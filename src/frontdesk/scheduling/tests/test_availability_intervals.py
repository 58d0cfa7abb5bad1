"""The interval sweep on its own: whole seconds in, whole seconds out, no database."""

from __future__ import annotations

from frontdesk.scheduling.availability.intervals import (
    Hold,
    Visit,
    clashes,
    first_on_grid,
    merged,
    span_slots,
)

MIN = 60
VISIT = Visit(type_id=1, duration=15 * MIN, before=0, after=0, daily_limit=None)


def test_overlapping_and_touching_holds_merge_into_one_interval() -> None:
    holds = [Hold(0, 10, "appointment"), Hold(5, 20, "leave"), Hold(20, 30, "adhoc")]
    assert merged(holds) == ([0], [30])


def test_holds_apart_stay_apart() -> None:
    assert merged([Hold(0, 10, "appointment"), Hold(11, 20, "appointment")]) == ([0, 11], [10, 20])


def test_a_time_between_grid_points_moves_to_the_next_one() -> None:
    assert first_on_grid(100, 15, 101) == 115
    assert first_on_grid(100, 15, 115) == 115
    assert first_on_grid(100, 15, 40) == 100


def test_the_sweep_jumps_past_a_hold_to_the_next_grid_time() -> None:
    starts, ends = merged([Hold(15 * MIN, 40 * MIN, "appointment")])
    found = span_slots(
        0,
        90 * MIN,
        15 * MIN,
        visit=VISIT,
        lo=0,
        hi=90 * MIN,
        starts=starts,
        ends=ends,
        accepts=None,
        want=10,
    )
    assert found == [0, 45 * MIN, 60 * MIN, 75 * MIN]


def test_buffers_keep_a_visit_off_a_hold_and_inside_its_session() -> None:
    padded = Visit(type_id=1, duration=15 * MIN, before=5 * MIN, after=5 * MIN, daily_limit=None)
    starts, ends = merged([Hold(30 * MIN, 45 * MIN, "appointment")])
    found = span_slots(
        0,
        105 * MIN,
        15 * MIN,
        visit=padded,
        lo=0,
        hi=105 * MIN,
        starts=starts,
        ends=ends,
        accepts=None,
        want=10,
    )
    # 0:00 has no room for the buffer before; 0:15 to 0:45 touch the hold through their
    # buffers; 1:30 would end its buffer after the session.
    assert found == [60 * MIN, 75 * MIN]


def test_the_filter_and_the_wanted_count_limit_what_the_sweep_returns() -> None:
    found = span_slots(
        0,
        120 * MIN,
        15 * MIN,
        visit=VISIT,
        lo=0,
        hi=120 * MIN,
        starts=[],
        ends=[],
        accepts=lambda t: t >= 30 * MIN,
        want=2,
    )
    assert found == [30 * MIN, 45 * MIN]


def test_leave_is_named_before_an_appointment_it_overlaps() -> None:
    holds = [Hold(0, 30, "appointment"), Hold(10, 50, "leave"), Hold(60, 70, "adhoc")]
    assert [h.kind for h in clashes(holds, 20, 40)] == ["leave", "appointment"]
