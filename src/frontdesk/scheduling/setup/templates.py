"""Weekly templates (a provider's hours at a location): saved after the rule is checked, the
hours checked against the clocks' changes and against the provider's other templates.

Two templates of one provider clash only on dates both rules produce, which no database
constraint can express; writes of a provider's templates are therefore serialised by locking the
provider's row first, so two administrators cannot each add half of a clash at the same moment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic, Location, Provider
from frontdesk.lib.clinic_time import clinic_zone, day_words
from frontdesk.scheduling.availability import template_sessions
from frontdesk.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Schedule,
    ScheduleTemplate,
)
from frontdesk.scheduling.setup.local_time import skipped_minutes
from frontdesk.scheduling.setup.refusals import SetupRefusedError, days_listed, hh_mm
from frontdesk.scheduling.setup.rules import (
    CLASH_HORIZON_DAYS,
    rule_dates,
    rule_expand,
    rule_in_words,
    rule_normalise,
)


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


def hours_clock_changes(data: TemplateInput, *, today: dt.date, zone: dt.tzinfo) -> list[str]:
    """Weekly hours against the clocks' changes on the days they fall on, as availability/
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
    days = rule_expand(
        data.rrule,
        valid_from=data.valid_from,
        start_time=data.start_time,
        day_from=first,
        day_to=last,
        zone=zone,
    ).dates
    twice: dict[dt.time, list[dt.date]] = {}
    for day in days:
        for which, time, field_name in (
            ("start", data.start_time, "start_time"),
            ("end", data.end_time, "end_time"),
        ):
            minutes = skipped_minutes(day, time, zone)
            if minutes is not None:
                raise SetupRefusedError(
                    f"These hours fall on {day_words(day)}, when their {which} time "
                    f"{hh_mm(time)} does not exist: the clocks go forward {minutes} minutes "
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
        f"{hh_mm(time)} happens twice on {days_listed(dates)} (the clocks go back); these "
        f"hours use the first {hh_mm(time)}."
        for time, dates in twice.items()
    ]


def _clash(data: TemplateInput, *, exclude_pk: int | None, zone: dt.tzinfo) -> str | None:
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
            zone=zone,
        ) & rule_dates(
            other.rrule,
            valid_from=other.valid_from,
            start_time=other.start_time,
            day_from=lo,
            day_to=hi,
            zone=zone,
        )
        if common:
            until = f" until {day_words(other.valid_until)}" if other.valid_until else ""
            return (
                f"{data.provider} already works {hh_mm(other.start_time)} to "
                f"{hh_mm(other.end_time)} at {other.schedule.location.name} on "
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
    zone = clinic_zone(clinic)
    rule = rule_normalise(
        data.rrule, valid_from=data.valid_from, valid_until=data.valid_until, zone=zone
    )
    data = TemplateInput(**{**data.__dict__, "rrule": rule})
    clock_notes = hours_clock_changes(data, today=timezone.localdate(timezone=zone), zone=zone)
    clash = _clash(data, exclude_pk=template.pk if template is not None else None, zone=zone)
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
        object_type=AuditObject.SCHEDULE_TEMPLATE,
        object_id=saved.pk,
        detail={
            "schedule": schedule.pk,
            "rrule": rule,
            "hours": f"{hh_mm(data.start_time)}-{hh_mm(data.end_time)}",
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
    zone = clinic_zone(schedule.clinic_id)
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
        object_type=AuditObject.SCHEDULE_TEMPLATE,
        object_id=pk,
        detail={"deleted": rule, "schedule": schedule.pk},
    )
    return _stranded_bookings(schedule=schedule, now=timezone.now())
