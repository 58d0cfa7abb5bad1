"""Typed recurrence rules: checked and normalised (`rule_normalise`), expanded with bounded
work whatever is typed (`rule_expand`, `rule_dates`), and said in words (`rule_in_words`)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from dateutil.rrule import rrule, rrulestr  # type: ignore[import-untyped, unused-ignore]

from frontdesk.lib.clinic_time import day_words
from frontdesk.lib.rrule import rule_parts, simple_weekly
from frontdesk.scheduling.setup.refusals import SetupRefusedError

# Open-ended templates are compared over this many days after the later start: every weekly,
# fortnightly and monthly pattern repeats well within it.
CLASH_HORIZON_DAYS = 3 * 366
# A repeated block is one row per week; a year of them is the most one form may create.
MOST_REPEATS = 53
# A typed rule's limits. Weekly hours come round at least once a year (53 weeks: a yearly
# "first Monday of January" is up to 371 days apart) and COUNT plans a few years at most.
MOST_GAP_DAYS = 371
MOST_COUNT = 1000
MOST_INTERVAL = {"DAILY": 366, "WEEKLY": 52, "MONTHLY": 12, "YEARLY": 1}
# The most dates one expansion walks through (from the rule's first day); three years of a
# daily rule are about 1,100, a rule first started decades ago about 20,000.
MOST_DATES = 40_000
DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_DAY_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_TIME_FREQUENCIES = ("HOURLY", "MINUTELY", "SECONDLY")
_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
# dateutil reports a malformed rule with any of these.
_RULE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)


def rule_in_words(rule: str) -> str:
    found = simple_weekly(rule)
    if found is None:
        return rule
    days, interval = found
    names = [DAY_NAMES[d] for d in days]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return listed if interval == 1 else f"{listed}, every {interval} weeks"


def _expand(
    rule: str, valid_from: dt.date, start_time: dt.time, *, zone: dt.tzinfo, years_later: int = 0
) -> tuple[Any, dt.timedelta]:
    """The parsed rule, started `years_later` years after `valid_from` (a multiple of 400: see
    `rule_expand`), and how far its dates were moved to do so."""
    dtstart = dt.datetime.combine(valid_from, start_time)
    try:
        parsed = rrulestr(rule, dtstart=dtstart)
    except ValueError:
        # UNTIL given in UTC (with Z) needs an aware start, as availability/ expands it.
        dtstart = dtstart.replace(tzinfo=zone)
        parsed = rrulestr(rule, dtstart=dtstart)
    if not years_later or not isinstance(parsed, rrule):
        return parsed, dt.timedelta()
    shift = dt.timedelta(days=_CYCLE_DAYS * years_later // _CYCLE_YEARS)
    until = parsed._until  # dateutil keeps the parsed UNTIL only here
    moved = parsed.replace(
        dtstart=dtstart + shift, until=until + shift if until is not None else None
    )
    return moved, shift


# The Gregorian calendar repeats every 400 years: 146,097 days, a whole number of weeks, so a
# rule started 400 years later falls on the same month days, weekdays and week numbers, 400
# years later. dateutil looks for a rule's next date until it finds one or passes the year
# 9999; for a rule that falls on no date for years that is years of empty periods (seconds of
# work for a rule that never comes). `rule_expand` therefore expands the rule moved by whole
# cycles to just before the year 9999, where dateutil's search ends within 400 years of periods
# whatever the rule, and moves the dates back.
_CYCLE_YEARS = 400
_CYCLE_DAYS = 146_097
_SEARCH_ENDS = 9999  # dateutil's last year (datetime.MAXYEAR)


class RuleTooBusyError(SetupRefusedError):
    """The rule falls on more dates than one expansion may walk through."""


@dataclass(frozen=True)
class RuleExpansion:
    dates: list[dt.date]  # local dates in day_from..day_to, ascending
    next_date: dt.date | None  # the first date after day_to; None: the rule has ended
    walked: int  # dates dateutil produced (from the rule's first day), at most MOST_DATES + 1


def rule_expand(
    rule: str,
    *,
    valid_from: dt.date,
    start_time: dt.time,
    day_from: dt.date,
    day_to: dt.date,
    zone: dt.tzinfo,
    most: int = MOST_DATES,
) -> RuleExpansion:
    """The rule's local dates in `day_from`..`day_to` and the next one after, in bounded work:
    at most `most` dates walked, and dateutil's search for the next date ends at the year 9999
    of the moved rule, under 400 years of periods past `day_to` (see above)."""
    # Two years of room after day_to, so a next date up to MOST_GAP_DAYS later is still found.
    years_later = max(0, (_SEARCH_ENDS - 2 - day_to.year) // _CYCLE_YEARS) * _CYCLE_YEARS
    parsed, shift = _expand(rule, valid_from, start_time, zone=zone, years_later=years_later)
    dates: list[dt.date] = []
    walked = 0
    for when in itertools.islice(parsed, most + 1):
        walked += 1
        day = when.date() - shift
        if day > day_to:
            return RuleExpansion(dates, day, walked)
        if day >= day_from:
            dates.append(day)
    if walked > most:
        raise RuleTooBusyError(
            f"That rule falls on more than {most:,} dates up to {day_words(day_to)}; "
            f"Frontdesk cannot check so many. Start it later or make it repeat less often.",
            field="rrule",
        )
    return RuleExpansion(dates, None, walked)


def rule_dates(
    rule: str,
    *,
    valid_from: dt.date,
    start_time: dt.time,
    day_from: dt.date,
    day_to: dt.date,
    zone: dt.tzinfo,
) -> set[dt.date]:
    """Local dates in `day_from`..`day_to` on which the rule produces a session."""
    return set(
        rule_expand(
            rule,
            valid_from=valid_from,
            start_time=start_time,
            day_from=day_from,
            day_to=day_to,
            zone=zone,
        ).dates
    )


_MONTH_LENGTHS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _asks_for_missing_days(parts: dict[str, str]) -> bool:
    """True when BYMONTHDAY names only days its BYMONTH months lack. dateutil would look for
    such a day until the year 9999, seconds of work, before finding none."""
    try:
        days = [int(d) for d in parts.get("BYMONTHDAY", "").split(",") if d]
        months = [int(m) for m in parts.get("BYMONTH", "").split(",") if m] or range(1, 13)
    except ValueError:
        return False  # dateutil explains the malformed number
    if not days or any(not 1 <= m <= 12 for m in months):
        return False
    return not any(abs(d) <= _MONTH_LENGTHS[m - 1] for d in days for m in months)


def _whole_number(parts: dict[str, str], key: str) -> int | None:
    value = parts.get(key, "")
    return int(value) if value.isascii() and value.isdigit() else None


def _rule_limits(parts: dict[str, str], example: str) -> None:
    """Refuse, before anything is expanded, rules that repeat within the day, too rarely, or
    too many times."""
    freq = parts.get("FREQ", "")
    if freq in _TIME_FREQUENCIES:
        raise SetupRefusedError(
            f"Weekly hours repeat by the day, week, month or year; FREQ={freq} would open "
            f"them many times a day. The start and end times give the hours, {example}.",
            field="rrule",
        )
    if freq not in _DAY_FREQUENCIES:
        raise SetupRefusedError(
            f"That is not a rule Frontdesk can read. It needs FREQ=DAILY, WEEKLY, MONTHLY or "
            f"YEARLY and parts joined by semicolons, {example}.",
            field="rrule",
        )
    timed = [key for key in _TIME_PARTS if key in parts]
    if timed:
        raise SetupRefusedError(
            f"Leave {' and '.join(timed)} out of the rule: the start and end times give the hours.",
            field="rrule",
        )
    if "COUNT" in parts and "UNTIL" in parts:
        raise SetupRefusedError(
            "Give COUNT or UNTIL in the rule, not both (or leave both out and use the last day).",
            field="rrule",
        )
    most_interval = MOST_INTERVAL[freq]
    interval = _whole_number(parts, "INTERVAL")
    if "INTERVAL" in parts and (interval is None or interval < 1):
        raise SetupRefusedError(
            f"INTERVAL={parts['INTERVAL']} is not a number of periods; give a whole number "
            f"from 1 to {most_interval} (1 is every time).",
            field="rrule",
        )
    if interval is not None and interval > most_interval:
        raise SetupRefusedError(
            f"INTERVAL={parts['INTERVAL']} would bring these hours round less than once a "
            f"year; with FREQ={freq} it can be at most {most_interval}.",
            field="rrule",
        )
    count = _whole_number(parts, "COUNT")
    if "COUNT" in parts and (count is None or count < 1):
        raise SetupRefusedError(
            f"COUNT={parts['COUNT']} is not a number of times; give a whole number from 1 to "
            f"{MOST_COUNT}.",
            field="rrule",
        )
    if count is not None and count > MOST_COUNT:
        raise SetupRefusedError(
            f"COUNT={parts['COUNT']} is more than Frontdesk plans at once; give at most "
            f"{MOST_COUNT}, or leave COUNT out and give the last day.",
            field="rrule",
        )


def _rule_gap(
    expansion: RuleExpansion, *, valid_from: dt.date, valid_until: dt.date | None
) -> tuple[dt.date, dt.date] | None:
    """The first stretch of more than MOST_GAP_DAYS without a date, from the first day to the
    last checked (or to the next date, for a rule that goes on past them)."""
    marks = [valid_from - dt.timedelta(days=1), *expansion.dates]
    if expansion.next_date is not None:
        ends = expansion.next_date if valid_until is None else min(expansion.next_date, valid_until)
        marks.append(ends)
    for before, after in itertools.pairwise(marks):
        if (after - before).days > MOST_GAP_DAYS:
            return before + dt.timedelta(days=1), after
    return None


def rule_normalise(
    text: str, *, valid_from: dt.date, valid_until: dt.date | None, zone: dt.tzinfo
) -> str:
    """A typed RFC 5545 rule, checked by dateutil; SetupRefusedError says what is wrong.

    Bounded work whatever is typed: limits checked on the text first (no times within a day,
    INTERVAL of a year at most, COUNT up to MOST_COUNT), then the rule expanded by
    `rule_expand` over the first CLASH_HORIZON_DAYS (or to the last day)."""
    rule = " ".join(text.split()).removeprefix("RRULE:").strip().rstrip(";")
    example = "for example FREQ=WEEKLY;BYDAY=MO,TH"
    if not rule:
        raise SetupRefusedError(f"Type a rule, {example}.", field="rrule")
    if "DTSTART" in rule.upper() or ":" in rule:
        raise SetupRefusedError(
            f"Type the rule alone, {example}; the valid-from date is its start.", field="rrule"
        )
    if len(rule) > 200:
        raise SetupRefusedError(
            "The rule is too long; keep it under 200 characters.", field="rrule"
        )
    parts = rule_parts(rule)
    if parts is None:
        raise SetupRefusedError(
            f"That is not a rule Frontdesk can read. It needs FREQ=DAILY, WEEKLY, MONTHLY or "
            f"YEARLY and parts joined by semicolons, {example}.",
            field="rrule",
        )
    _rule_limits(parts, example)
    if _asks_for_missing_days(parts):
        raise SetupRefusedError(
            "That rule asks for a day its months never have (such as February 30).",
            field="rrule",
        )
    horizon_end = valid_from + dt.timedelta(days=CLASH_HORIZON_DAYS)
    try:
        expansion = rule_expand(
            rule,
            valid_from=valid_from,
            start_time=dt.time(0),
            day_from=valid_from,
            day_to=min(valid_until, horizon_end) if valid_until is not None else horizon_end,
            zone=zone,
        )
    except _RULE_ERRORS as exc:
        raise SetupRefusedError(
            f"That rule is not valid ({exc}). Write it as in RFC 5545, {example}.", field="rrule"
        ) from None
    gap = _rule_gap(expansion, valid_from=valid_from, valid_until=valid_until)
    if gap is not None:
        first, last = gap
        raise SetupRefusedError(
            f"That rule falls on no date from {day_words(first)} to {day_words(last)}, more "
            f"than a year. Weekly hours must come round at least once a year; give the days "
            f"they repeat on, {example}.",
            field="rrule",
        )
    if not expansion.dates:
        never = (
            "between the valid-from and valid-until dates"
            if valid_until is not None
            else f"on any date from {day_words(valid_from)} on"
        )
        raise SetupRefusedError(f"That rule never falls {never}.", field="rrule")
    return rule
