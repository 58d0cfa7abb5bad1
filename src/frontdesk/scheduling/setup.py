"""Setting the schedule up: appointment types, weekly templates, blocks and leave, holidays.

What is written here is what `availability.py` reads. Every write is one transaction that
records its own audit event (no patient is involved, so none is named). Refusals are
`SetupRefusedError` with the officer-facing reason and, where it belongs to one, the form field.

Two templates of one provider clash only on dates both rules produce, which no database
constraint can express; writes of a provider's templates are therefore serialised by locking the
provider's row first, so two administrators cannot each add half of a clash at the same moment.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dateutil.rrule import rrule, rrulestr  # type: ignore[import-untyped, unused-ignore]
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType, Clinic, Location, Provider
from frontdesk.lib.clinic_time import clinic_zone, day_words, local_midnight
from frontdesk.lib.rrule import rule_parts, simple_weekly
from frontdesk.scheduling.availability import template_sessions
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Block,
    BlockKind,
    ClinicHoliday,
    Schedule,
    ScheduleTemplate,
)

# `day_words` lives in lib/clinic_time.py; views_setup.py still names it here.
__all__ = [
    "BlockInput",
    "LocalTime",
    "RuleExpansion",
    "RuleTooBusyError",
    "SetupRefusedError",
    "SetupSummary",
    "TemplateInput",
    "appointment_type_delete",
    "appointment_type_save",
    "block_create",
    "block_delete",
    "calendar_event_title_save",
    "day_words",
    "holiday_add",
    "holiday_delete",
    "hours_clock_changes",
    "leave_create",
    "local_datetime",
    "rule_dates",
    "rule_expand",
    "rule_in_words",
    "rule_normalise",
    "setup_summary",
    "template_delete",
    "template_save",
]

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

# The audit object types of set-up changes, shown on the set-up page's list of recent changes.
SETUP_OBJECT_LABELS = {
    "appointment_type": "appointment type",
    "schedule_template": "weekly hours",
    "block": "block or leave",
    "clinic_holiday": "holiday",
    "calendar_event_title": "calendar visit title",
}


class SetupRefusedError(Exception):
    """The change cannot be made; the message says why in plain words."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _hh_mm(time: dt.time) -> str:
    return f"{time:%H:%M}"


# --- Recurrence rules -----------------------------------------------------------------------


def rule_in_words(rule: str) -> str:
    found = simple_weekly(rule)
    if found is None:
        return rule
    days, interval = found
    names = [DAY_NAMES[d] for d in days]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return listed if interval == 1 else f"{listed}, every {interval} weeks"


def _expand(
    rule: str, valid_from: dt.date, start_time: dt.time, *, years_later: int = 0
) -> tuple[Any, dt.timedelta]:
    """The parsed rule, started `years_later` years after `valid_from` (a multiple of 400: see
    `rule_expand`), and how far its dates were moved to do so."""
    dtstart = dt.datetime.combine(valid_from, start_time)
    try:
        parsed = rrulestr(rule, dtstart=dtstart)
    except ValueError:
        # UNTIL given in UTC (with Z) needs an aware start, as availability.py expands it.
        dtstart = dtstart.replace(tzinfo=clinic_zone())
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
    most: int = MOST_DATES,
) -> RuleExpansion:
    """The rule's local dates in `day_from`..`day_to` and the next one after, in bounded work:
    at most `most` dates walked, and dateutil's search for the next date ends at the year 9999
    of the moved rule, under 400 years of periods past `day_to` (see above)."""
    # Two years of room after day_to, so a next date up to MOST_GAP_DAYS later is still found.
    years_later = max(0, (_SEARCH_ENDS - 2 - day_to.year) // _CYCLE_YEARS) * _CYCLE_YEARS
    parsed, shift = _expand(rule, valid_from, start_time, years_later=years_later)
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
    rule: str, *, valid_from: dt.date, start_time: dt.time, day_from: dt.date, day_to: dt.date
) -> set[dt.date]:
    """Local dates in `day_from`..`day_to` on which the rule produces a session."""
    return set(
        rule_expand(
            rule, valid_from=valid_from, start_time=start_time, day_from=day_from, day_to=day_to
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


def rule_normalise(text: str, *, valid_from: dt.date, valid_until: dt.date | None) -> str:
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


# --- Clinic local time ----------------------------------------------------------------------


@dataclass(frozen=True)
class LocalTime:
    at: dt.datetime  # aware, in the clinic's zone
    ambiguous: bool  # the wall-clock time happens twice (clocks go back); the first is used


def _skipped_minutes(day: dt.date, time: dt.time, zone: dt.tzinfo) -> int | None:
    """How far the clocks jump forward over `time` on `day`; None when the time exists."""
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=zone, fold=0)
    if first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return None
    before, after = first.utcoffset(), naive.replace(tzinfo=zone, fold=1).utcoffset()
    return int(abs((after or dt.timedelta()) - (before or dt.timedelta())).total_seconds() // 60)


def local_datetime(day: dt.date, time: dt.time, *, field: str | None = None) -> LocalTime:
    """Clinic wall-clock time on `day`. A time the clocks skip that night is refused."""
    zone = clinic_zone()
    minutes = _skipped_minutes(day, time, zone)
    if minutes is not None:
        raise SetupRefusedError(
            f"{_hh_mm(time)} does not exist on {day_words(day)}: the clocks go forward "
            f"{minutes} minutes that night. Choose a time before or after the change.",
            field=field,
        )
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=zone, fold=0)
    return LocalTime(first, first.utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset())


def hours_clock_changes(data: TemplateInput, *, today: dt.date) -> list[str]:
    """Weekly hours against the clocks' changes on the days they fall on, as availability.py
    places them (each date's start and end in clinic wall-clock time, the first of a repeated
    time). Checked from today (earlier days can no longer be booked) to the last day, or
    CLASH_HORIZON_DAYS ahead for hours that keep running; zones change their clocks every
    year, so a pattern that meets a change meets one within that.

    A start or end the clocks skip on one of those days is refused, naming the first such day
    (as blocks are); a start or end that happens twice is used at its first and reported."""
    first = max(data.valid_from, today)
    last = first + dt.timedelta(days=CLASH_HORIZON_DAYS)
    if data.valid_until is not None:
        last = min(last, data.valid_until)
    if last < first:
        return []
    zone = clinic_zone()
    days = rule_expand(
        data.rrule,
        valid_from=data.valid_from,
        start_time=data.start_time,
        day_from=first,
        day_to=last,
    ).dates
    twice: dict[dt.time, list[dt.date]] = {}
    for day in days:
        for which, time, field_name in (
            ("start", data.start_time, "start_time"),
            ("end", data.end_time, "end_time"),
        ):
            minutes = _skipped_minutes(day, time, zone)
            if minutes is not None:
                raise SetupRefusedError(
                    f"These hours fall on {day_words(day)}, when their {which} time "
                    f"{_hh_mm(time)} does not exist: the clocks go forward {minutes} minutes "
                    f"that night. Choose a {which} time before or after the change, or end "
                    f"these hours before that day and add the later ones separately.",
                    field=field_name,
                )
            naive = dt.datetime.combine(day, time)
            if (
                naive.replace(tzinfo=zone, fold=0).utcoffset()
                != naive.replace(tzinfo=zone, fold=1).utcoffset()
            ):
                twice.setdefault(time, []).append(day)
    return [
        f"{_hh_mm(time)} happens twice on {_days_listed(dates)} (the clocks go back); these "
        f"hours use the first {_hh_mm(time)}."
        for time, dates in twice.items()
    ]


# --- Appointment types ----------------------------------------------------------------------


@transaction.atomic
def appointment_type_save(
    *,
    context: AuditContext,
    appointment_type: AppointmentType,
    allowed_providers: Sequence[Provider],
    changed: Sequence[str] = (),
) -> AppointmentType:
    """Add or change an appointment type of the clinic."""
    is_new = appointment_type.pk is None
    taken = AppointmentType.objects.filter(
        clinic_id=appointment_type.clinic_id, name__iexact=appointment_type.name
    ).exclude(pk=appointment_type.pk)
    if taken.exists():
        raise SetupRefusedError(
            "There is already an appointment type with that name.", field="name"
        )
    try:
        with transaction.atomic():
            appointment_type.save()
    except IntegrityError:
        raise SetupRefusedError(
            "There is already an appointment type with that name.", field="name"
        ) from None
    appointment_type.allowed_providers.set(allowed_providers)
    audit_record(
        context=context,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        object_type="appointment_type",
        object_id=appointment_type.pk,
        detail={"name": appointment_type.name, "changed": sorted(changed)},
    )
    return appointment_type


@transaction.atomic
def appointment_type_delete(*, context: AuditContext, appointment_type: AppointmentType) -> None:
    """Delete a type nobody has used; a type in use is refused (its history must stay)."""
    kind = AppointmentType.objects.select_for_update().get(pk=appointment_type.pk)
    booked = Appointment.objects.filter(appointment_type=kind).count()
    if booked:
        raise SetupRefusedError(
            f"{kind.name} cannot be deleted: {booked} appointment(s) use it, and their history "
            f"must keep its name. Rename it instead if it is no longer offered as it was."
        )
    held = Block.objects.filter(appointment_types=kind, end__gt=timezone.now()).count()
    if held:
        raise SetupRefusedError(
            f"{kind.name} cannot be deleted: {held} reserved block(s) still hold time for it. "
            f"Delete those blocks first."
        )
    name, pk = kind.name, kind.pk
    try:
        with transaction.atomic():
            kind.delete()
    except IntegrityError:
        # An appointment of this type was booked a moment ago; the database keeps the link.
        raise SetupRefusedError(f"{name} cannot be deleted: it has just been booked.") from None
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type="appointment_type",
        object_id=pk,
        detail={"deleted": name},
    )


# --- Weekly templates -----------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateInput:
    provider: Provider
    location: Location
    rrule: str
    start_time: dt.time
    end_time: dt.time
    valid_from: dt.date
    valid_until: dt.date | None
    slot_minutes: int
    overbook_cap: int


def _clash(data: TemplateInput, *, exclude_pk: int | None) -> str | None:
    others = (
        ScheduleTemplate.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=data.valid_from),
            schedule__provider=data.provider,
            start_time__lt=data.end_time,
            end_time__gt=data.start_time,
        )
        .select_related("schedule__location")
        .order_by("valid_from", "pk")
    )
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if data.valid_until is not None:
        others = others.filter(valid_from__lte=data.valid_until)
    for other in others:
        lo = max(data.valid_from, other.valid_from)
        ends = [d for d in (data.valid_until, other.valid_until) if d is not None]
        hi = min(ends) if ends else lo + dt.timedelta(days=CLASH_HORIZON_DAYS)
        common = rule_dates(
            data.rrule,
            valid_from=data.valid_from,
            start_time=data.start_time,
            day_from=lo,
            day_to=hi,
        ) & rule_dates(
            other.rrule,
            valid_from=other.valid_from,
            start_time=other.start_time,
            day_from=lo,
            day_to=hi,
        )
        if common:
            until = f" until {day_words(other.valid_until)}" if other.valid_until else ""
            return (
                f"{data.provider} already works {_hh_mm(other.start_time)} to "
                f"{_hh_mm(other.end_time)} at {other.schedule.location.name} on "
                f"{rule_in_words(other.rrule)} (from {day_words(other.valid_from)}{until}); "
                f"both would apply on {day_words(min(common))}. Change the days or hours, or "
                f"end the other template first."
            )
    return None


def _schedule_for(
    *, clinic: Clinic, provider: Provider, location: Location
) -> tuple[Schedule, list[str]]:
    schedule, created = Schedule.objects.get_or_create(
        provider=provider, location=location, defaults={"clinic": clinic}
    )
    if created:
        provider.locations.add(location)
        return schedule, [f"A new schedule was opened for {provider} at {location.name}."]
    if not schedule.is_active:
        # Entering hours is the deliberate act of making the schedule bookable again.
        schedule.is_active = True
        schedule.save(update_fields=["is_active"])
        return schedule, [f"The schedule of {provider} at {location.name} is bookable again."]
    return schedule, []


@transaction.atomic
def template_save(
    *,
    context: AuditContext,
    clinic: Clinic,
    template: ScheduleTemplate | None,
    data: TemplateInput,
) -> tuple[ScheduleTemplate, list[str]]:
    """Add or change a weekly template; opens the provider's schedule at the location if none.

    Locks the provider rows involved (see the module docstring) before checking for clashes.
    """
    if data.provider.clinic_id != clinic.pk or data.location.clinic_id != clinic.pk:
        raise SetupRefusedError("Choose a provider and a location of this clinic.")
    provider_ids = {data.provider.pk}
    if template is not None:
        provider_ids.add(template.schedule.provider_id)
    list(Provider.objects.select_for_update().filter(pk__in=sorted(provider_ids)).order_by("pk"))
    if data.end_time <= data.start_time:
        raise SetupRefusedError("The end time must be after the start time.", field="end_time")
    if data.valid_until is not None and data.valid_until < data.valid_from:
        raise SetupRefusedError(
            "The last day must be on or after the first day.", field="valid_until"
        )
    rule = rule_normalise(data.rrule, valid_from=data.valid_from, valid_until=data.valid_until)
    data = TemplateInput(**{**data.__dict__, "rrule": rule})
    clock_notes = hours_clock_changes(data, today=timezone.localdate(timezone=clinic_zone()))
    clash = _clash(data, exclude_pk=template.pk if template is not None else None)
    if clash is not None:
        raise SetupRefusedError(clash)
    schedule, notes = _schedule_for(clinic=clinic, provider=data.provider, location=data.location)
    notes += clock_notes
    is_new = template is None
    previous = template.schedule if template is not None else None
    saved = template if template is not None else ScheduleTemplate()
    saved.schedule = schedule
    saved.rrule = rule
    saved.start_time, saved.end_time = data.start_time, data.end_time
    saved.valid_from, saved.valid_until = data.valid_from, data.valid_until
    saved.slot_minutes, saved.overbook_cap = data.slot_minutes, data.overbook_cap
    saved.save()
    if previous is not None:
        notes += _stranded_bookings(schedule=previous, now=timezone.now())
    audit_record(
        context=context,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        object_type="schedule_template",
        object_id=saved.pk,
        detail={
            "schedule": schedule.pk,
            "rrule": rule,
            "hours": f"{_hh_mm(data.start_time)}-{_hh_mm(data.end_time)}",
            "valid_from": data.valid_from.isoformat(),
            "valid_until": data.valid_until.isoformat() if data.valid_until else None,
        },
    )
    return saved, notes


STRANDED_HORIZON = dt.timedelta(days=366)


def _stranded_bookings(*, schedule: Schedule, now: dt.datetime) -> list[str]:
    """A warning when upcoming appointments (the next year) no longer fit the schedule's
    hours; they stay booked, for the front desk to move or keep."""
    upcoming = list(
        Appointment.objects.filter(
            schedule=schedule,
            status__in=ACTIVE_STATUSES,
            start__gte=now,
            start__lt=now + STRANDED_HORIZON,
        ).values_list("start", "end")
    )
    if not upcoming:
        return []
    zone = clinic_zone()
    sessions = template_sessions(
        schedule=schedule,
        day_from=now.astimezone(zone).date(),
        day_to=max(end for _, end in upcoming).astimezone(zone).date(),
    )
    outside = sum(
        1 for start, end in upcoming if not any(s.start <= start and end <= s.end for s in sessions)
    )
    if not outside:
        return []
    return [
        f"{outside} upcoming appointment(s) of {schedule.provider} at {schedule.location.name} "
        f"now fall outside the weekly hours; they stay booked. Check them on the day view."
    ]


@transaction.atomic
def template_delete(*, context: AuditContext, template: ScheduleTemplate) -> list[str]:
    """Delete a template. Booked appointments keep their times; those now outside the hours
    are reported."""
    schedule = template.schedule
    pk, rule = template.pk, template.rrule
    template.delete()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type="schedule_template",
        object_id=pk,
        detail={"deleted": rule, "schedule": schedule.pk},
    )
    return _stranded_bookings(schedule=schedule, now=timezone.now())


# --- Blocks and leave -----------------------------------------------------------------------


@dataclass(frozen=True)
class BlockInput:
    schedule: Schedule
    kind: BlockKind
    day: dt.date
    start_time: dt.time
    end_time: dt.time
    repeat_until: dt.date | None = None
    appointment_types: Sequence[AppointmentType] = field(default_factory=tuple)
    release_days_before: int | None = None
    reason: str = ""


def _occurrences(data: BlockInput) -> list[dt.date]:
    if data.repeat_until is None:
        return [data.day]
    if data.repeat_until < data.day:
        raise SetupRefusedError(
            "Repeat until must be on or after the block's date.", field="repeat_until"
        )
    days = [data.day]
    while days[-1] + dt.timedelta(days=7) <= data.repeat_until:
        days.append(days[-1] + dt.timedelta(days=7))
    if len(days) > MOST_REPEATS:
        raise SetupRefusedError(
            f"That repeats {len(days)} times; at most {MOST_REPEATS} weeks can be entered at once.",
            field="repeat_until",
        )
    return days


def _outside_hours(
    *, schedules: Sequence[Schedule], intervals: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[dt.date]:
    """Local days of `intervals` that touch none of the schedules' sessions."""
    zone = clinic_zone()
    day_from = min(s.astimezone(zone).date() for s, _ in intervals)
    day_to = max(e.astimezone(zone).date() for _, e in intervals)
    sessions = [
        session
        for schedule in schedules
        for session in template_sessions(schedule=schedule, day_from=day_from, day_to=day_to)
    ]
    return [
        start.astimezone(zone).date()
        for start, end in intervals
        if not any(s.start < end and start < s.end for s in sessions)
    ]


def _days_listed(days: Sequence[dt.date]) -> str:
    shown = ", ".join(day_words(d) for d in days[:5])
    return shown + (f" and {len(days) - 5} more" if len(days) > 5 else "")


@transaction.atomic
def block_create(*, context: AuditContext, data: BlockInput) -> tuple[list[Block], list[str]]:
    """Reserve or block time on one schedule, once or weekly; times are clinic local time.

    Refused: an end before the start, a time the clocks skip, a start already past, a reserved
    block held for no type. Warned: days outside the provider's hours, bookings already there.
    """
    if data.kind not in (BlockKind.RESERVED, BlockKind.ADHOC):
        raise SetupRefusedError("Choose reserved or blocked time.", field="kind")
    if data.end_time <= data.start_time:
        raise SetupRefusedError("The block must end after it starts.", field="end_time")
    if data.kind == BlockKind.RESERVED and not data.appointment_types:
        raise SetupRefusedError(
            "Choose the appointment types this time is reserved for.", field="appointment_types"
        )
    warnings: list[str] = []
    intervals: list[tuple[dt.datetime, dt.datetime]] = []
    for day in _occurrences(data):
        first = local_datetime(day, data.start_time, field="start_time")
        last = local_datetime(day, data.end_time, field="end_time")
        warnings.extend(
            f"{point.at:%H:%M} happens twice on {day_words(day)} (the clocks go back); "
            f"the first {point.at:%H:%M} is used."
            for point in (first, last)
            if point.ambiguous
        )
        intervals.append((first.at.astimezone(dt.UTC), last.at.astimezone(dt.UTC)))
    now = timezone.now()
    if intervals[0][0] < now:
        raise SetupRefusedError(
            f"{day_words(data.day)} at {_hh_mm(data.start_time)} has already passed; blocks are "
            f"for time still to come.",
            field="day",
        )
    schedule = data.schedule
    blocks = [
        Block(
            schedule=schedule,
            kind=data.kind,
            start=start,
            end=end,
            release_days_before=data.release_days_before
            if data.kind == BlockKind.RESERVED
            else None,
            reason=data.reason.strip(),
        )
        for start, end in intervals
    ]
    for block in blocks:
        block.save(force_insert=True)
        if data.kind == BlockKind.RESERVED:
            block.appointment_types.set(data.appointment_types)
    outside = _outside_hours(schedules=[schedule], intervals=intervals)
    if outside:
        warnings.append(
            f"{schedule.provider} has no hours at {schedule.location.name} at that time on "
            f"{_days_listed(outside)}, so the block changes nothing there."
        )
    if data.kind == BlockKind.ADHOC:
        clash = Q()
        for start, end in intervals:
            clash |= Q(start__lt=end, end__gt=start)
        booked = Appointment.objects.filter(
            clash, schedule=schedule, status__in=ACTIVE_STATUSES
        ).count()
        if booked:
            warnings.append(
                f"{booked} appointment(s) are already booked in the blocked time; they stay "
                f"booked. Move or cancel them from the day view."
            )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type="block",
        object_id=blocks[0].pk,
        detail={
            "kind": str(data.kind),
            "schedule": schedule.pk,
            "blocks": [b.pk for b in blocks],
            "first": blocks[0].start.isoformat(),
            "types": sorted(t.pk for t in data.appointment_types),
            "release_days_before": data.release_days_before,
        },
    )
    return blocks, warnings


@transaction.atomic
def leave_create(
    *,
    context: AuditContext,
    provider: Provider,
    first_day: dt.date,
    last_day: dt.date,
    reason: str = "",
) -> tuple[Block, list[str]]:
    """Whole days of leave, `first_day` to `last_day` in clinic local dates. Leave is the
    provider's at every location (availability reads it so); it is stored on one schedule."""
    if last_day < first_day:
        raise SetupRefusedError("The last day must be on or after the first day.", field="last_day")
    if first_day < timezone.localdate(timezone=clinic_zone()):
        raise SetupRefusedError("Leave must start today or later.", field="first_day")
    schedules = list(
        Schedule.objects.filter(provider=provider).select_related("location").order_by("pk")
    )
    if not schedules:
        raise SetupRefusedError(
            f"{provider} has no weekly hours yet, so there is nothing to take leave from. "
            f"Add a template first.",
            field="provider",
        )
    start, end = local_midnight(first_day), local_midnight(last_day + dt.timedelta(days=1))
    block = Block(
        schedule=schedules[0],
        kind=BlockKind.LEAVE,
        start=start,
        end=end,
        reason=reason.strip(),
    )
    block.save(force_insert=True)
    warnings = []
    if _outside_hours(schedules=schedules, intervals=[(start, end)]):
        warnings.append(f"{provider} has no hours on those days, so the leave changes nothing.")
    booked = Appointment.objects.filter(
        provider=provider, status__in=ACTIVE_STATUSES, start__lt=end, end__gt=start
    ).count()
    if booked:
        warnings.append(
            f"{booked} appointment(s) with {provider} are already booked during the leave; they "
            f"stay booked. Move or cancel them from the day view."
        )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type="block",
        object_id=block.pk,
        detail={
            "kind": str(BlockKind.LEAVE),
            "provider": provider.pk,
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
        },
    )
    return block, warnings


@transaction.atomic
def block_delete(*, context: AuditContext, block: Block) -> None:
    """Give the time back to the schedule."""
    pk, kind, start = block.pk, block.kind, block.start
    block.delete()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type="block",
        object_id=pk,
        detail={"deleted": kind, "start": start.isoformat()},
    )


# --- Clinic holidays ------------------------------------------------------------------------


def _holiday_taken(clinic: Clinic, day: dt.date) -> SetupRefusedError | None:
    existing = ClinicHoliday.objects.filter(clinic=clinic, date=day).first()
    if existing is None:
        return None
    return SetupRefusedError(
        f"{day_words(day)} is already a holiday ({existing.name}).", field="date"
    )


@transaction.atomic
def holiday_add(
    *, context: AuditContext, clinic: Clinic, day: dt.date, name: str
) -> tuple[ClinicHoliday, list[str]]:
    """Close the clinic for a day; bookings already made that day are reported, not cancelled."""
    taken = _holiday_taken(clinic, day)
    if taken is not None:
        raise taken
    try:
        with transaction.atomic():
            holiday = ClinicHoliday.objects.create(clinic=clinic, date=day, name=name.strip())
    except IntegrityError:
        raise _holiday_taken(clinic, day) or SetupRefusedError(
            "That day could not be added; try again.", field="date"
        ) from None
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type="clinic_holiday",
        object_id=holiday.pk,
        detail={"date": day.isoformat(), "name": holiday.name},
    )
    start, end = local_midnight(day), local_midnight(day + dt.timedelta(days=1))
    booked = Appointment.objects.filter(
        clinic=clinic, status__in=ACTIVE_STATUSES, start__gte=start, start__lt=end
    ).count()
    if booked:
        return holiday, [
            f"{booked} appointment(s) are booked on {day_words(day)}; they stay booked. Move "
            f"or cancel them from the day view."
        ]
    return holiday, []


@transaction.atomic
def holiday_delete(*, context: AuditContext, holiday: ClinicHoliday) -> None:
    pk, day, name = holiday.pk, holiday.date, holiday.name
    holiday.delete()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type="clinic_holiday",
        object_id=pk,
        detail={"deleted": name, "date": day.isoformat()},
    )


# --- Calendar feeds --------------------------------------------------------------------------


@transaction.atomic
def calendar_event_title_save(*, context: AuditContext, clinic: Clinic, title: str) -> Clinic:
    """Set the title every visit has in the clinic's calendar feeds; audited with the old one."""
    title = " ".join(title.split())
    if not title:
        raise SetupRefusedError("Type a title, such as Appointment.", field="title")
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    previous = locked.calendar_event_title
    locked.calendar_event_title = title
    locked.save(update_fields=["calendar_event_title"])
    clinic.calendar_event_title = title
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type="calendar_event_title",
        object_id=clinic.pk,
        detail={"from": previous, "to": title},
    )
    return clinic


# --- Reads for the set-up pages -------------------------------------------------------------


@dataclass(frozen=True)
class SetupSummary:
    appointment_types: int
    templates: int
    upcoming_blocks: int
    upcoming_holidays: int
    calendar_event_title: str
    recent_changes: list[tuple[AuditEvent, str]]  # the event and what it changed, in words


RECENT_CHANGES = 15
RECENT_DAYS = 30


def setup_summary(*, clinic: Clinic, now: dt.datetime) -> SetupSummary:
    """Counts for the set-up page and the latest set-up changes (the audit trail's own rows,
    read within RECENT_DAYS so the occurred_at index bounds the scan)."""
    today = now.astimezone(clinic_zone()).date()
    changes = list(
        AuditEvent.objects.filter(
            clinic_id_value=clinic.pk,
            object_type__in=list(SETUP_OBJECT_LABELS),
            occurred_at__gte=now - dt.timedelta(days=RECENT_DAYS),
        ).order_by("-occurred_at", "-seq")[:RECENT_CHANGES]
    )
    return SetupSummary(
        appointment_types=AppointmentType.objects.filter(clinic=clinic).count(),
        templates=ScheduleTemplate.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today), schedule__clinic=clinic
        ).count(),
        upcoming_blocks=Block.objects.filter(schedule__clinic=clinic, end__gt=now).count(),
        upcoming_holidays=ClinicHoliday.objects.filter(clinic=clinic, date__gte=today).count(),
        calendar_event_title=clinic.calendar_event_title,
        recent_changes=[(e, SETUP_OBJECT_LABELS[e.object_type]) for e in changes],
    )
