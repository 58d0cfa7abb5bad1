"""Whether one time can be booked, and if not why, in the officer's words (`slot_is_bookable`):
the same rules as the search, asked of one slot, so a time the search offers is one the
booking accepts; and how the desk names a provider."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from frontdesk.clinic.models import AppointmentType, Provider
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.scheduling.availability.intervals import (
    Hold,
    clashes,
    first_on_grid,
    local_seconds,
    seconds_of,
)
from frontdesk.scheduling.availability.queries import (
    holds_load,
    holidays_between,
    rules_by_schedule,
    visit_of,
)
from frontdesk.scheduling.models import Schedule

_DOCTORAL = frozenset({"MD", "DO", "DDS", "DMD", "DPM", "DC", "OD", "PHD", "PSYD", "DPT"})


def provider_label(provider: Provider) -> str:
    """How the front desk names a provider: Dr Lee, or Nina Park for a nurse practitioner."""
    titles = {part.strip().replace(".", "").upper() for part in provider.credentials.split(",")}
    if titles & _DOCTORAL:
        return f"Dr {provider.family_name}"
    return f"{provider.given_name} {provider.family_name}"


def _plural(name: str, count: int = 2) -> str:
    return name if count == 1 or name.endswith("s") else f"{name}s"


def _short_date(day: dt.date, today: dt.date) -> str:
    text = f"{day:%b} {day.day}"
    return text if day.year == today.year else f"{text}, {day.year}"


def _hh_mm(seconds: int, zone: zoneinfo.ZoneInfo) -> str:
    return f"{dt.datetime.fromtimestamp(seconds, zone):%H:%M}"


def slot_is_bookable(
    *,
    appointment_type: AppointmentType,
    schedule: Schedule,
    start: dt.datetime,
    now: dt.datetime,
    ignore_appointment_id: int | None = None,
) -> str | None:
    """None when a visit of this type may start at `start` on this schedule, else why not, in
    words for the officer. The same rules as `free_slots`. Reads only: the booking service
    calls it inside its transaction, before the insert (`ignore_appointment_id`: the
    appointment being moved, which must not stand in its own way)."""
    if start.tzinfo is None or now.tzinfo is None:
        raise ValueError("slot_is_bookable needs aware datetimes")
    if start < now:
        return "That time is in the past"
    provider, location = schedule.provider, schedule.location
    who = provider_label(provider)
    type_name = appointment_type.name
    if schedule.clinic_id != appointment_type.clinic_id:
        return f"{type_name} is not offered by {who}'s clinic"
    if not (schedule.is_active and provider.is_active):
        return f"{who} does not take bookings at {location}"
    allowed = set(appointment_type.allowed_providers.values_list("pk", flat=True))
    if allowed and provider.pk not in allowed:
        return f"{who} does not see {_plural(type_name)}"

    zone = clinic_zone(schedule.clinic_id)
    local = start.astimezone(zone)
    day = local.date()
    holiday = holidays_between([schedule.clinic_id], day, day).get((schedule.clinic_id, day))
    if holiday is not None:
        return f"The clinic is closed for {holiday}"

    visit = visit_of(appointment_type)
    t = seconds_of(start)
    rules = rules_by_schedule([schedule.pk], day, day).get(schedule.pk, [])
    sessions = [
        (local_seconds(day, r.start_time, zone.key), local_seconds(day, r.end_time, zone.key), r)
        for r in rules
        if r.runs_on(day, zone.key)
    ]
    covering = [(s, e, r.slot_minutes * 60) for s, e, r in sessions if s <= t < e]
    if not covering:
        return f"{who} does not work at that time at {location}"
    on_grid = [(s, e, step) for s, e, step in covering if (t - s) % step == 0]
    if not on_grid:
        s, e, step = covering[0]
        before = first_on_grid(s, step, t) - step
        options = " or ".join(
            _hh_mm(option, zone) for option in (before, before + step) if s <= option < e
        )
        return f"{who}'s appointments at {location} start every {step // 60} minutes: try {options}"
    busy_from, busy_to = t - visit.before, t + visit.duration + visit.after
    if not any(s <= busy_from and busy_to <= e for s, e, _ in on_grid):
        s, e, _ = on_grid[0]
        return (
            f"A {appointment_type.duration_minutes}-minute {type_name} at {local:%H:%M}"
            f" does not fit in {who}'s session at {location}"
            f" ({_hh_mm(s, zone)} to {_hh_mm(e, zone)})"
        )

    now_day = now.astimezone(zone).date()
    loaded = holds_load(
        places=[(schedule.pk, schedule.provider_id)],
        visit=visit,
        lo=busy_from,
        hi=busy_to,
        days=(day, day),
        now_day=now_day,
        zone_key=zone.key,
        ignore_appointment_id=ignore_appointment_id,
    )
    touched = clashes(loaded.holds[schedule.pk], busy_from, busy_to)
    if touched:
        return _clash_words(touched[0], who=who, day=day, today=now_day)
    booked = loaded.day_counts.get((provider.pk, day), 0)
    if visit.daily_limit is not None and booked >= visit.daily_limit:
        return f"{who} already sees {booked} {_plural(type_name, booked)} that day"
    return None


def _clash_words(hold: Hold, *, who: str, day: dt.date, today: dt.date) -> str:
    if hold.kind == "leave":
        return f"{who} is on leave then"
    if hold.kind == "adhoc":
        return f"{who}'s time is blocked then" + (f" ({hold.reason})" if hold.reason else "")
    if hold.kind == "reserved":
        held = " and ".join(_plural(name) for name in hold.held_for) or "other visits"
        words = f"That time is held for {held}"
        if hold.release_days is not None:
            opens = day - dt.timedelta(days=hold.release_days)
            words += f" until {_short_date(opens, today)}"
        return words
    return f"{who} already has an appointment then"
