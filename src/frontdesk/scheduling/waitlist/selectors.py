"""Reads of the waitlist: the clinic's list, one entry, the patients a freed time could go to,
the times free now for an entry, and the offers of a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients.selectors import (
    BreakGlassRequiredError,
    PatientAccessDeniedError,
    access_patient,
    patient_access_check,
)
from frontdesk.scheduling.availability import FreeSlot, SlotPreferences, free_slots
from frontdesk.scheduling.models import (
    Schedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from frontdesk.scheduling.selectors import patient_overlapping_appointments
from frontdesk.scheduling.waitlist.notices import patient_reachable
from frontdesk.scheduling.waitlist.terms import (
    HELD,
    TIMES_OF_DAY,
    EntryRequest,
    OfferOutcome,
    entry_preferences,
)


def waitlist_for(user: User) -> QuerySet[WaitlistEntry]:
    """The user's clinic's waitlist; a role without appointment access sees nothing."""
    if not role_may(user.role, Action.APPOINTMENT_VIEW) or user.clinic_id is None:
        raise PatientAccessDeniedError(Action.APPOINTMENT_VIEW)
    return WaitlistEntry.objects.filter(clinic_id=user.clinic_id)


def access_waitlist_entry(user: User, entry_id: int) -> WaitlistEntry:
    """An entry of the user's clinic, if its patient opens for this user as on their chart (a
    restricted record raises `BreakGlassRequiredError` before anything is shown or changed)."""
    entry = (
        waitlist_for(user)
        .filter(pk=entry_id)
        .select_related("patient", "appointment_type", "location", "current_appointment__provider")
        .first()
    )
    if entry is None:
        raise Http404("No such waitlist entry")
    patient_access_check(user, entry.patient)
    return entry


def waitlist_page(user: User, *, open_only: bool) -> list[WaitlistEntry]:
    """Entries in the order offers go out, each with its offers (four queries)."""
    entries = waitlist_for(user)
    if open_only:
        entries = entries.filter(status=WaitlistStatus.WAITING)
    else:
        entries = entries.exclude(status=WaitlistStatus.WAITING)
    return list(
        entries.select_related(
            "patient", "appointment_type", "location", "current_appointment__provider"
        )
        .prefetch_related(
            "providers",
            Prefetch(
                "offers",
                queryset=WaitlistOffer.objects.select_related("provider").order_by("-created_at"),
            ),
        )
        .order_by("priority", "created_at", "pk")[:500]
    )


def waitlist_page_for_view(
    user: User, *, context: AuditContext, open_only: bool
) -> list[WaitlistEntry]:
    """`waitlist_page`, recorded as a look at the patients it lists (when it lists any)."""
    entries = waitlist_page(user, open_only=open_only)
    if entries:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=[e.patient_id for e in entries],
            object_type=AuditObject.WAITLIST,
        )
    return entries


def offers_still_open(now: dt.datetime) -> QuerySet[WaitlistOffer]:
    return WaitlistOffer.objects.filter(status=WaitlistOfferStatus.OFFERED, expires_at__gt=now)


@dataclass(frozen=True)
class Candidate:
    entry: WaitlistEntry
    slot: FreeSlot
    reachable: bool  # has agreed to email or text messages we can send


def waitlist_candidates(
    *,
    schedule: Schedule,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    limit: int | None = None,
    for_offers: bool = True,
    among: Collection[int] | None = None,
    passed: Collection[int] = (),
) -> list[Candidate]:
    """Waiting patients who could take free time starting in [start, end) on `schedule`, in
    priority then waiting-time order, each with the earliest fitting start for their visit type.

    `for_offers`: only patients we can message, who hold no open offer and were never offered
    this time; staff filling the time by hand see every waiting patient that fits.
    `among`: only these entries; `passed`: not these entries (both by id).
    """
    zone = clinic_zone(schedule.clinic_id)
    day = start.astimezone(zone).date()
    through = WaitlistEntry.providers.through
    entries = (
        WaitlistEntry.objects.filter(
            clinic_id=schedule.clinic_id,
            status=WaitlistStatus.WAITING,
            earliest_date__lte=day,
            latest_date__gte=day,
        )
        .filter(Q(location__isnull=True) | Q(location_id=schedule.location_id))
        .filter(
            ~Exists(through.objects.filter(waitlistentry_id=OuterRef("pk")))
            | Exists(
                through.objects.filter(
                    waitlistentry_id=OuterRef("pk"), provider_id=schedule.provider_id
                )
            )
        )
        .select_related("patient", "appointment_type", "current_appointment")
        .order_by("priority", "created_at", "pk")
    )
    if among is not None:
        entries = entries.filter(pk__in=list(among))
    if passed:
        entries = entries.exclude(pk__in=list(passed))
    if for_offers:
        entries = entries.exclude(
            Exists(offers_still_open(now).filter(entry_id=OuterRef("pk")))
        ).exclude(
            Exists(
                WaitlistOffer.objects.filter(
                    entry_id=OuterRef("pk"),
                    schedule_id=schedule.pk,
                    start__gte=start,
                    start__lt=end,
                )
            )
        )
    found: list[Candidate] = []
    slots: dict[tuple[int, SlotPreferences], FreeSlot | None] = {}
    for entry in entries[:200]:
        if not entry.patient.is_active:
            continue
        reachable = patient_reachable(entry.patient)
        if for_offers and not reachable:
            continue
        preferences = entry_preferences(entry)
        key = (entry.appointment_type_id, preferences)
        if key not in slots:
            found_slots = free_slots(
                appointment_type=entry.appointment_type,
                schedules=[schedule],
                start=start,
                end=end,
                now=now,
                preferences=preferences,
                limit=1,
            )
            slots[key] = found_slots[0] if found_slots else None
        slot = slots[key]
        if slot is None:
            continue
        current = entry.current_appointment
        held = current if current is not None and current.status in HELD else None
        if held is not None and slot.start >= held.start:
            continue  # they wait for an earlier time, not a later one
        if patient_overlapping_appointments(
            patient_id=entry.patient_id,
            start=slot.start,
            end=slot.end,
            exclude_id=held.pk if held else None,
        ):
            continue
        found.append(Candidate(entry, slot, reachable))
        if limit is not None and len(found) >= limit:
            break
    return found


def waitlist_free_now(
    *,
    clinic_id: int,
    patient_id: int,
    terms: EntryRequest,
    now: dt.datetime,
    limit: int = 3,
) -> list[FreeSlot]:
    """Free times, right now, that fit what a patient waits for (`terms`): the type of visit,
    a provider it accepts (none: any), its location (none: any), a day in its range and on its
    days, its time of day, before the booking it keeps (if one is still held), and clear of the
    patient's other appointments. The first `limit`, soonest first; found with `free_slots`,
    as find-a-time finds them. Only reads: staff choose whether to book one."""
    zone = clinic_zone(clinic_id)
    start = max(now, dt.datetime.combine(terms.earliest_date, dt.time(0), tzinfo=zone))
    end = dt.datetime.combine(terms.latest_date + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    current = terms.current_appointment
    held = current if current is not None and current.status in HELD else None
    if held is not None:
        end = min(end, held.start)  # only an earlier start than the booking kept
    if end <= start or limit <= 0:
        return []
    schedules = Schedule.objects.filter(clinic_id=clinic_id, is_active=True)
    provider_ids = [p.pk for p in terms.providers]
    if provider_ids:
        schedules = schedules.filter(provider_id__in=provider_ids)
    if terms.location is not None:
        schedules = schedules.filter(location_id=terms.location.pk)
    preferences = SlotPreferences(
        weekdays=frozenset(int(d) for d in terms.weekdays if d.isdigit()),
        time_of_day=TIMES_OF_DAY.get(terms.time_of_day),
    )
    slots = free_slots(
        appointment_type=terms.appointment_type,
        schedules=schedules.select_related("provider", "location"),
        start=start,
        end=end,
        now=now,
        preferences=preferences,
        limit=limit * 4,  # room for times that clash with the patient's other visits
    )
    fitting: list[FreeSlot] = []
    for slot in slots:
        if patient_overlapping_appointments(
            patient_id=patient_id,
            start=slot.start,
            end=slot.end,
            exclude_id=held.pk if held is not None else None,
        ):
            continue
        fitting.append(slot)
        if len(fitting) >= limit:
            break
    return fitting


def entry_terms(entry: WaitlistEntry) -> EntryRequest:
    """What a saved entry waits for, in the terms the free-time search takes."""
    return EntryRequest(
        appointment_type=entry.appointment_type,
        providers=list(entry.providers.all()),
        location=entry.location,
        earliest_date=entry.earliest_date,
        latest_date=entry.latest_date,
        weekdays=list(entry.weekdays),
        time_of_day=entry.time_of_day,
        priority=entry.priority,
        note=entry.note,
        current_appointment=entry.current_appointment,
    )


@dataclass(frozen=True)
class FreeNow:
    """The times free right now for an entry just added or changed."""

    entry: WaitlistEntry
    terms: EntryRequest
    slots: list[FreeSlot]


def waitlist_free_now_for_view(
    user: User, *, context: AuditContext, entry_id: int, now: dt.datetime, limit: int
) -> FreeNow | None:
    """Up to `limit` free times that fit the user's clinic's entry `entry_id`; None when it no
    longer waits or its record needs a stated reason first (the officer books from its chart).
    The search reads the patient's appointments, so it is audited as find-a-time's is."""
    entry = (
        waitlist_for(user)
        .filter(pk=entry_id, status=WaitlistStatus.WAITING)
        .select_related("patient", "appointment_type", "location", "current_appointment")
        .first()
    )
    if entry is None:
        return None
    try:
        access_patient(user, entry.patient_id)
    except (BreakGlassRequiredError, PatientAccessDeniedError):
        return None
    terms = entry_terms(entry)
    slots = waitlist_free_now(
        clinic_id=entry.clinic_id, patient_id=entry.patient_id, terms=terms, now=now, limit=limit
    )
    audit_record(
        context=context,
        action=AuditAction.VIEW,
        patient_ids=[entry.patient_id],
        object_type=AuditObject.FIND_TIME,
        detail={"waitlist_entry": entry.pk, "found": len(slots)},
    )
    return FreeNow(entry=entry, terms=terms, slots=slots)


def waitlist_entry_form_shown(
    *, context: AuditContext, patient_id: int, entry_id: int | None = None, found: int | None = None
) -> None:
    """The form adding a patient to the waitlist (or changing their entry `entry_id`) is shown:
    a look at the patient; with `found`, the times free now that its typed wishes were
    searched for, audited as find-a-time's search is."""
    with transaction.atomic():
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=[patient_id],
            object_type=AuditObject.WAITLIST_ENTRY_FORM,
            object_id=entry_id if entry_id is not None else "",
        )
        if found is not None:
            audit_record(
                context=context,
                action=AuditAction.VIEW,
                patient_ids=[patient_id],
                object_type=AuditObject.FIND_TIME,
                detail={"waitlist_form": True, "found": found},
            )


@dataclass(frozen=True)
class SlotPage:
    """A freed time's page: the waiting patients who fit it and its offers."""

    candidates: list[Candidate]
    offers: list[WaitlistOffer]


def waitlist_slot_for_view(
    *,
    context: AuditContext,
    schedule: Schedule,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
) -> SlotPage:
    """A freed time's candidates and offers, recorded as a look at their patients."""
    candidates = waitlist_candidates(
        schedule=schedule, start=start, end=end, now=now, for_offers=False, limit=50
    )
    offers = slot_offers(schedule=schedule, start=start, end=end)
    patient_ids = [c.entry.patient_id for c in candidates] + [o.entry.patient_id for o in offers]
    if patient_ids:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=patient_ids,
            object_type=AuditObject.WAITLIST_SLOT,
            detail={"schedule": schedule.pk, "start": start.isoformat()},
        )
    return SlotPage(candidates=candidates, offers=offers)


def slot_offers(*, schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[WaitlistOffer]:
    return list(
        WaitlistOffer.objects.filter(schedule=schedule, start__lt=end, end__gt=start)
        .select_related("entry__patient")
        .order_by("-created_at")
    )


def waitlist_offer_get(offer_id: int) -> WaitlistOffer | None:
    return (
        WaitlistOffer.objects.select_related(
            "entry__patient", "entry__current_appointment", "schedule__location", "appointment"
        )
        .filter(pk=offer_id)
        .first()
    )


def offer_state(offer: WaitlistOffer) -> str:
    """What the patient's link page shows: "open" while the offer can still be accepted."""
    if offer.status == WaitlistOfferStatus.ACCEPTED:
        return OfferOutcome.ALREADY_YOURS
    if offer.status != WaitlistOfferStatus.OFFERED:
        return str(offer.status)
    if offer.expires_at <= timezone.now():
        return OfferOutcome.EXPIRED
    if offer.entry.status != WaitlistStatus.WAITING:
        return OfferOutcome.GONE
    # An offer that no longer fits its entry still shows as open: opening a link never acts,
    # so only the patient's answer closes it (acceptance refuses it and hands the time on).
    return "open"


def offer_place(offer: WaitlistOffer) -> str:
    location = offer.schedule.location
    return f"{location.name}, {location.address}" if location.address else location.name
