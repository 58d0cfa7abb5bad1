"""The waitlist: patients waiting for an earlier time, and offers of freed time.

When time frees up (a cancellation, or an appointment moved away), `waitlist_time_freed` runs
once that change has committed. It picks the eligible waiting patients in priority, then
waiting-time order and offers the time to the first WAITLIST_OFFERS_AT_ONCE of them, each by a
signed link that expires after WAITLIST_OFFER_TTL. The first to accept gets the time through
`appointment_book` (or `appointment_reschedule` of the booking they already hold, which takes
the new time before it gives up the old), so the database's no-double-booking guarantee decides
any race; a partial unique index also allows one accepted offer per slot. The others are told
the time is gone. Staff can do the same by hand from the waitlist and slot pages.

Messages (the offer, the note that a time is gone) are written to the outbox in the transaction
that records the offer or closes it, so a message never announces an offer that was rolled back
and is never lost with a worker; the worker sends them, each at most once, while they still
make sense (an offer still open, a "gone" note before the offer would have expired).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.messaging.channels import consented_channels
from frontdesk.messaging.content import appointment_when
from frontdesk.messaging.links import make_token, read_token
from frontdesk.messaging.models import OutboxMessage, OutboxStatus
from frontdesk.messaging.outbox import (
    NotRelevantError,
    OutboxKind,
    Outgoing,
    outbox_add,
)
from frontdesk.messaging.tasks import outbox_kick
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import (
    PatientAccessDeniedError,
    access_patient,
    patient_access_check,
)
from frontdesk.scheduling import services
from frontdesk.scheduling.availability import (
    FreeSlot,
    SlotPreferences,
    TimeOfDay,
    clinic_zone,
    free_slots,
)
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Schedule,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from frontdesk.scheduling.selectors import patient_overlapping_appointments

logger = logging.getLogger(__name__)

OFFER_PURPOSE = "waitlist-offer"
T = TypeVar("T")
# Statuses of a linked appointment that the patient still holds (and would move earlier).
_HELD = (AppointmentStatus.BOOKED, AppointmentStatus.PENDING)


class WaitlistError(Exception):
    """The waitlist change cannot be made; the message says why in plain words."""


# --- Links --------------------------------------------------------------------------------------


def offer_token(offer: WaitlistOffer) -> str:
    return make_token(OFFER_PURPOSE, offer.pk)


def offer_id_from_token(token: str) -> int:
    """The offer inside a patient's link. Raises messaging.links.LinkExpiredError or
    LinkInvalidError; the offer's own `expires_at` is checked again when it is accepted."""
    return read_token(OFFER_PURPOSE, token, max_age=settings.WAITLIST_OFFER_TTL)


def offer_link(offer: WaitlistOffer) -> str:
    path = reverse("waitlist_offer", kwargs={"token": offer_token(offer)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


# --- Selectors ----------------------------------------------------------------------------------


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


_TIMES_OF_DAY: dict[str, TimeOfDay] = {"morning": "morning", "afternoon": "afternoon"}


def _preferences(entry: WaitlistEntry) -> SlotPreferences:
    return SlotPreferences(
        weekdays=frozenset(int(d) for d in entry.weekdays if d.isdigit()),
        time_of_day=_TIMES_OF_DAY.get(entry.time_of_day),
    )


def _open_offers(now: dt.datetime) -> QuerySet[WaitlistOffer]:
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
    zone = clinic_zone()
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
            Exists(_open_offers(now).filter(entry_id=OuterRef("pk")))
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
        reachable = bool(consented_channels(entry.patient))
        if for_offers and not reachable:
            continue
        preferences = _preferences(entry)
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
        held = current if current is not None and current.status in _HELD else None
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
    zone = clinic_zone()
    start = max(now, dt.datetime.combine(terms.earliest_date, dt.time(0), tzinfo=zone))
    end = dt.datetime.combine(terms.latest_date + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    current = terms.current_appointment
    held = current if current is not None and current.status in _HELD else None
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
        time_of_day=_TIMES_OF_DAY.get(terms.time_of_day),
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


def slot_offers(*, schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[WaitlistOffer]:
    return list(
        WaitlistOffer.objects.filter(schedule=schedule, start__lt=end, end__gt=start)
        .select_related("entry__patient")
        .order_by("-created_at")
    )


# --- Messages -----------------------------------------------------------------------------------


def _when(moment: dt.datetime) -> str:
    when = appointment_when(moment)
    return f"{when.date} at {when.time}"


def offer_place(offer: WaitlistOffer) -> str:
    location = offer.schedule.location
    return f"{location.name}, {location.address}" if location.address else location.name


def offer_moves_booking(offer: WaitlistOffer) -> bool:
    """Taking the offer moves a booking the patient already holds (rather than adding one)."""
    current = offer.entry.current_appointment
    return current is not None and current.status in _HELD


# Like reminders (messaging/content.py), offers name only the patient's first name, the time
# and the place: a message or link may be read by someone else, and the kind of visit, the
# provider or another booking can reveal a diagnosis. The email carries a text part and an HTML
# part from the same words (templates scheduling/waitlist_*_email.*; the HTML part escapes
# everything, the name the patient gave us included).


@dataclass(frozen=True)
class WaitlistMessage:
    subject: str
    text: str
    html: str
    sms_text: str


def _email_parts(template: str, context: Mapping[str, object]) -> tuple[str, str]:
    return (
        render_to_string(f"scheduling/{template}.txt", context),
        render_to_string(f"scheduling/{template}.html", context),
    )


def waitlist_offer_message(offer: WaitlistOffer) -> WaitlistMessage:
    """The offer of an earlier time: email (text and HTML) and text message."""
    link = offer_link(offer)
    context = {
        "first_name": offer.entry.patient.given_name,
        "clinic": settings.CLINIC_NAME,
        "when": _when(offer.start),
        "place": offer_place(offer),
        "expires": _when(offer.expires_at),
        "link": link,
        "moves": offer_moves_booking(offer),
    }
    text, html = _email_parts("waitlist_offer_email", context)
    short = appointment_when(offer.start).short
    sms = (
        f"{settings.CLINIC_NAME}: an earlier time is free, {short} at "
        f"{offer.schedule.location.name}. Take it: {link}"
    )
    return WaitlistMessage("An earlier appointment is free", text, html, sms)


def waitlist_gone_message(offer: WaitlistOffer) -> WaitlistMessage:
    """The note that an offered time has been taken by another patient."""
    context = {
        "first_name": offer.entry.patient.given_name,
        "clinic": settings.CLINIC_NAME,
        "when": _when(offer.start),
    }
    text, html = _email_parts("waitlist_gone_email", context)
    short = appointment_when(offer.start).short
    sms = f"{settings.CLINIC_NAME}: the time on {short} has been taken. You stay on the waitlist."
    return WaitlistMessage("That time has been taken", text, html, sms)


OFFER_KIND = "waitlist-offer"
GONE_KIND = "waitlist-gone"


def _offer_for_message(message: OutboxMessage) -> WaitlistOffer:
    return WaitlistOffer.objects.select_related(
        "entry__patient", "entry__current_appointment", "schedule__location"
    ).get(pk=message.object_id)


def _offer_prepare(message: OutboxMessage, now: dt.datetime) -> Outgoing:
    """The offer, sent only while it can still be accepted."""
    offer = _offer_for_message(message)
    if offer.status != WaitlistOfferStatus.OFFERED:
        raise NotRelevantError(f"The offer is {offer.get_status_display().lower()}.")
    if offer.expires_at <= now:
        raise NotRelevantError("The offer expired before it could be sent.")
    if offer.entry.status != WaitlistStatus.WAITING:
        raise NotRelevantError("The patient is no longer waiting.")
    content = waitlist_offer_message(offer)
    return Outgoing(
        offer.entry.patient, content.subject, content.text, content.html, content.sms_text
    )


def _gone_prepare(message: OutboxMessage, now: dt.datetime) -> Outgoing:
    """The "time gone" note, worth sending only while the offer's link would still be open."""
    offer = _offer_for_message(message)
    if offer.expires_at <= now:
        raise NotRelevantError("The offer's link has expired, so the note is no longer needed.")
    content = waitlist_gone_message(offer)
    return Outgoing(
        offer.entry.patient, content.subject, content.text, content.html, content.sms_text
    )


def _offer_status(message: OutboxMessage) -> None:
    """How the offer reached the patient, shown to staff: the channel, or "not sent"."""
    if message.status == OutboxStatus.SENT:
        channel = message.channel
    elif message.status in (OutboxStatus.PARKED, OutboxStatus.CANCELLED):
        channel = "not sent"
    else:
        channel = ""
    WaitlistOffer.objects.filter(pk=message.object_id).update(channel=channel)


def _gone_status(message: OutboxMessage) -> None:
    return  # the outbox row and its audit events are the whole record of a "gone" note


WAITLIST_OFFER = OutboxKind(OFFER_KIND, "Waitlist offer", _offer_prepare, _offer_status)
WAITLIST_GONE = OutboxKind(GONE_KIND, "Waitlist: time taken", _gone_prepare, _gone_status)


def _queue_messages(offers: Sequence[WaitlistOffer], kind: str, now: dt.datetime) -> None:
    """Inside the transaction that made or closed the offers."""
    for offer in offers:
        outbox_add(kind=kind, object_id=offer.pk, patient=offer.entry.patient, now=now)


def _wake_outbox(offers: Sequence[WaitlistOffer]) -> None:
    """After the transaction: ask the worker to send now (the outbox holds the messages)."""
    if offers:
        outbox_kick()


def waitlist_messages_send(*, offer_ids: Sequence[int], kind: str) -> int:
    """Queue the offer ("offer") or the "it is gone" note ("gone") for each offer in the
    outbox; kept for tasks queued before messages went through it. Returns how many."""
    offers = WaitlistOffer.objects.filter(pk__in=list(offer_ids)).select_related("entry__patient")
    now = timezone.now()
    queued = 0
    for offer in offers.order_by("pk"):
        outbox_kind = OFFER_KIND if kind == "offer" else GONE_KIND
        if outbox_add(kind=outbox_kind, object_id=offer.pk, patient=offer.entry.patient, now=now):
            queued += 1
    if queued:
        outbox_kick()
    return queued


# --- Offering freed time ------------------------------------------------------------------------


def waitlist_time_freed(
    *,
    schedule_id: int,
    start: dt.datetime,
    end: dt.datetime,
    context: AuditContext = SYSTEM_CONTEXT,
) -> list[WaitlistOffer]:
    """Offer time that just became free on a schedule to the next waitlisted patients.

    Runs after the cancellation or move that freed the time has committed (`on_commit`), or
    when a member of staff asks. Nothing is offered while earlier offers of the same time are
    still open, so one freed time goes out in one batch at a time. Each entry is locked and
    checked again before its offer is made, so a change saved meanwhile is respected."""
    now = timezone.now()
    if end <= now:
        return []
    offers = _retrying_deadlocks(
        lambda: _offer_freed_time(
            schedule_id=schedule_id, start=start, end=end, now=now, context=context
        )
    )
    _wake_outbox(offers)
    return offers


@transaction.atomic
def _offer_freed_time(
    *,
    schedule_id: int,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    context: AuditContext,
) -> list[WaitlistOffer]:
    # Serialises batches per schedule. FOR NO KEY UPDATE of the schedule row alone: it does
    # not block bookings' FK checks, and the provider's row stays free for the bookings that
    # queue on it while holding an entry we may wait for (`_candidates_locked`).
    schedule = (
        Schedule.objects.select_for_update(no_key=True, of=("self",))
        .select_related("provider", "location")
        .filter(pk=schedule_id, is_active=True)
        .first()
    )
    if schedule is None:
        return []
    if _open_offers(now).filter(schedule=schedule, start__lt=end, end__gt=start).exists():
        return []
    candidates = _candidates_locked(
        schedule=schedule,
        start=max(start, now),
        end=end,
        now=now,
        wanted=settings.WAITLIST_OFFERS_AT_ONCE,
    )
    offers = [
        WaitlistOffer.objects.create(
            entry=c.entry,
            schedule=schedule,
            provider=schedule.provider,
            start=c.slot.start,
            end=c.slot.end,
            status=WaitlistOfferStatus.OFFERED,
            expires_at=now + settings.WAITLIST_OFFER_TTL,
            created_at=now,
        )
        for c in candidates
    ]
    _queue_messages(offers, OFFER_KIND, now)
    if offers:
        audit_record(
            context=context,
            action=AuditAction.CREATE,
            patient_ids=[o.entry.patient_id for o in offers],
            object_type="waitlist_offer",
            detail={
                "event": "freed time offered",
                "schedule": schedule.pk,
                "start": start.isoformat(),
                "offers": [o.pk for o in offers],
            },
        )
    return offers


def _lock_entries(entry_ids: Collection[int]) -> None:
    """Take the entries' row locks for the rest of the transaction, in id order (PostgreSQL;
    SQLite's IMMEDIATE transaction already serialises writers)."""
    list(
        WaitlistEntry.objects.select_for_update()
        .filter(pk__in=sorted(entry_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _candidates_locked(
    *, schedule: Schedule, start: dt.datetime, end: dt.datetime, now: dt.datetime, wanted: int
) -> list[Candidate]:
    """The first `wanted` waiting patients the time can be offered to, each entry locked and
    found fitting again under its lock.

    The list is read without locks, so staff may change or remove an entry, the patient may
    take another offer, or another freed time may be offered to them before the lock is taken:
    reading the locked entries again through the same checks sees what committed first, and an
    entry that no longer fits is passed over for the next in line. A change or removal that
    comes after waits for this transaction and then withdraws the offer made here.
    Lock order: the schedule, then the entries; no offer row is locked here, so this agrees
    with accepting, changing and removing (an entry's offers, then the entry)."""
    chosen: list[Candidate] = []
    passed: set[int] = set()
    while len(chosen) < wanted:
        found = waitlist_candidates(
            schedule=schedule,
            start=start,
            end=end,
            now=now,
            limit=wanted - len(chosen),
            passed=passed,
        )
        if not found:
            break
        entry_ids = [c.entry.pk for c in found]
        _lock_entries(entry_ids)
        passed.update(entry_ids)
        chosen += waitlist_candidates(
            schedule=schedule, start=start, end=end, now=now, among=entry_ids
        )
    return chosen


# --- Answering an offer -------------------------------------------------------------------------


class OfferOutcome(StrEnum):
    ACCEPTED = "accepted"  # booked just now
    ALREADY_YOURS = "already-yours"  # accepted before (a second click)
    GONE = "gone"  # someone else took it, or it can no longer be booked
    EXPIRED = "expired"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # staff removed or changed the entry; the patient did nothing


@dataclass(frozen=True)
class OfferAnswer:
    outcome: OfferOutcome
    offer: WaitlistOffer
    appointment: Appointment | None = None


def patient_context(context: AuditContext, *, clinic_id: int) -> AuditContext:
    """The audit identity of a patient acting through a signed link."""
    return dataclasses.replace(
        context,
        actor_id=None,
        actor_username="patient (signed link)",
        actor_role="patient",
        clinic_id=clinic_id,
        purpose="treatment: patient answered a waitlist offer",
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


def _refused_outcome(offer: WaitlistOffer) -> OfferOutcome:
    if offer.status == WaitlistOfferStatus.ACCEPTED:
        return OfferOutcome.ALREADY_YOURS
    return OfferOutcome(offer.status)


def _lock_offer(offer_id: int) -> tuple[WaitlistOffer, WaitlistEntry]:
    offer = WaitlistOffer.objects.select_for_update().get(pk=offer_id)
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient", "appointment_type", "current_appointment")
        .get(pk=offer.entry_id)
    )
    return offer, entry


def _close(offer: WaitlistOffer, status: WaitlistOfferStatus, now: dt.datetime) -> None:
    offer.status = status
    offer.responded_at = now
    offer.save(update_fields=["status", "responded_at"])


def _take(
    *,
    context: AuditContext,
    user: User | None,
    entry: WaitlistEntry,
    schedule: Schedule,
    start: dt.datetime,
    offers: services.OpenOffers,
) -> Appointment:
    """Book the time for the entry's patient, moving the booking they hold if there is one."""
    current = entry.current_appointment
    if current is not None and current.status in _HELD:
        return services.appointment_reschedule(
            context=context,
            user=user,
            appointment=current,
            schedule=schedule,
            start=start,
            reason="earlier time from the waitlist",
            offers=offers,
        )
    return services.appointment_book(
        context=context,
        user=user,
        patient=entry.patient,
        schedule=schedule,
        appointment_type=entry.appointment_type,
        start=start,
        note="from the waitlist",
        offers=offers,
    )


def _withdraw_overlapping(
    *, schedule_id: int, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> list[WaitlistOffer]:
    """Open offers of time now taken become `gone`; returns them for the 'gone' message.

    Offers locked right now belong to patients answering at this very moment: they resolve
    their own offer (their booking fails, so it becomes gone), and waiting on them here would
    deadlock with their wait on our booking in the exclusion constraint."""
    overlapping = list(
        WaitlistOffer.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("entry__patient")
        .filter(
            schedule_id=schedule_id,
            status=WaitlistOfferStatus.OFFERED,
            start__lt=end,
            end__gt=start,
        )
        .order_by("pk")
    )
    for offer in overlapping:
        _close(offer, WaitlistOfferStatus.GONE, now)
    gone = [o for o in overlapping if o.expires_at > now]
    _queue_messages(gone, GONE_KIND, now)
    return gone


def _close_entry(entry: WaitlistEntry, now: dt.datetime) -> None:
    entry.status = WaitlistStatus.BOOKED
    entry.closed_at = now
    entry.save(update_fields=["status", "closed_at"])


def _retrying_deadlocks(work: Callable[[], T]) -> T:
    """Run a transaction again when PostgreSQL broke a deadlock by aborting it (SQLSTATE 40P01):
    racing bookings can deadlock in the exclusion constraint, and a savepoint cannot recover
    a booking nested in our transaction, so the whole transaction is tried again."""
    for attempt in range(services.DEADLOCK_RETRIES):
        try:
            return work()
        except OperationalError as exc:
            deadlock = getattr(exc.__cause__, "sqlstate", None) == "40P01"
            if not deadlock or attempt == services.DEADLOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def waitlist_offer_accept(*, context: AuditContext, offer_id: int) -> OfferAnswer:
    """The patient accepts an offer through their link. The first acceptance of a time books
    it; any later one, or one after the offer expired, is told so and changes nothing. An offer
    that no longer fits what its entry waits for books nothing either: it is withdrawn and its
    time goes to the next patients."""
    answer, gone, withdrawn = _retrying_deadlocks(
        lambda: _accept(context=context, offer_id=offer_id)
    )
    _wake_outbox(gone)
    for offer in withdrawn:
        waitlist_time_freed(schedule_id=offer.schedule_id, start=offer.start, end=offer.end)
    return answer


@transaction.atomic
def _accept(
    *, context: AuditContext, offer_id: int
) -> tuple[OfferAnswer, list[WaitlistOffer], list[WaitlistOffer]]:
    """The answer, the other offers of the time now gone, and the offer itself if it was
    withdrawn just now because it no longer fits its entry (its time goes to the next)."""
    now = timezone.now()
    offer, entry = _lock_offer(offer_id)
    context = patient_context(context, clinic_id=entry.clinic_id)
    if offer.status == WaitlistOfferStatus.OFFERED and offer.expires_at <= now:
        _close(offer, WaitlistOfferStatus.EXPIRED, now)
    if offer.status == WaitlistOfferStatus.OFFERED and entry.status != WaitlistStatus.WAITING:
        _close(offer, WaitlistOfferStatus.GONE, now)
    if offer.status != WaitlistOfferStatus.OFFERED:
        audit_record(
            context=context,
            action=AuditAction.VIEW,
            patient_ids=[entry.patient_id],
            object_type="waitlist_offer",
            object_id=offer.pk,
            detail={"event": "acceptance refused", "status": offer.status},
        )
        # A declined offer cannot be taken back: for the patient, the time is gone.
        outcome = _refused_outcome(offer)
        return (
            OfferAnswer(OfferOutcome.GONE if outcome == OfferOutcome.DECLINED else outcome, offer),
            [],
            [],
        )
    schedule = Schedule.objects.select_related("provider", "location").get(pk=offer.schedule_id)
    offer.schedule = schedule
    # A change of the entry withdraws the offers that no longer fit it; should an entry be
    # changed some other way, the time is still not booked against what the patient waits for.
    # (The type of visit booked is the entry's own, so only the rest of its terms is checked.)
    provider_ids = set(entry.providers.values_list("pk", flat=True))
    if not offer_fits_entry(
        offer, entry, offered_type_id=entry.appointment_type_id, provider_ids=provider_ids
    ):
        _close(offer, WaitlistOfferStatus.WITHDRAWN, now)
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            patient_ids=[entry.patient_id],
            object_type="waitlist_offer",
            object_id=offer.pk,
            detail={"event": "acceptance refused", "status": offer.status, "fits": False},
        )
        return OfferAnswer(OfferOutcome.WITHDRAWN, offer), [], [offer]
    try:
        with transaction.atomic():
            # The other offers of the time are closed below as gone, and the patients told.
            appointment = _take(
                context=context,
                user=None,
                entry=entry,
                schedule=schedule,
                start=offer.start,
                offers=services.OpenOffers.LEAVE,
            )
            offer.status = WaitlistOfferStatus.ACCEPTED
            offer.responded_at = now
            offer.appointment = appointment
            offer.save(update_fields=["status", "responded_at", "appointment"])
    except (services.BookingRefusedError, IntegrityError) as exc:
        # Someone else was first (SlotTakenError, or the one-accepted-per-slot index), or
        # the time can no longer be booked; either way the patient is told it is gone.
        offer.status = WaitlistOfferStatus.OFFERED
        _close(offer, WaitlistOfferStatus.GONE, now)
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            patient_ids=[entry.patient_id],
            object_type="waitlist_offer",
            object_id=offer.pk,
            detail={"event": "acceptance lost", "reason": str(exc)[:200]},
        )
        return OfferAnswer(OfferOutcome.GONE, offer), [], []
    _close_entry(entry, now)
    gone = _withdraw_overlapping(
        schedule_id=schedule.pk, start=appointment.start, end=appointment.end, now=now
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[entry.patient_id, *(o.entry.patient_id for o in gone)],
        object_type="waitlist_offer",
        object_id=offer.pk,
        detail={
            "event": "offer accepted",
            "appointment": appointment.pk,
            "gone": [o.pk for o in gone],
        },
    )
    return OfferAnswer(OfferOutcome.ACCEPTED, offer, appointment), gone, []


def waitlist_offer_decline(*, context: AuditContext, offer_id: int) -> OfferAnswer:
    """The patient says no thanks; once no offer of the time is open, it goes to the next."""
    now = timezone.now()
    with transaction.atomic():
        offer, entry = _lock_offer(offer_id)
        context = patient_context(context, clinic_id=entry.clinic_id)
        if offer.status != WaitlistOfferStatus.OFFERED or offer.expires_at <= now:
            if offer.status == WaitlistOfferStatus.OFFERED:
                _close(offer, WaitlistOfferStatus.EXPIRED, now)
            audit_record(
                context=context,
                action=AuditAction.VIEW,
                patient_ids=[entry.patient_id],
                object_type="waitlist_offer",
                object_id=offer.pk,
                detail={"event": "decline refused", "status": offer.status},
            )
            return OfferAnswer(_refused_outcome(offer), offer)
        _close(offer, WaitlistOfferStatus.DECLINED, now)
        audit_record(
            context=context,
            action=AuditAction.UPDATE,
            patient_ids=[entry.patient_id],
            object_type="waitlist_offer",
            object_id=offer.pk,
            detail={"event": "offer declined"},
        )
    waitlist_time_freed(schedule_id=offer.schedule_id, start=offer.start, end=offer.end)
    return OfferAnswer(OfferOutcome.DECLINED, offer)


def waitlist_offers_expire(*, now: dt.datetime | None = None) -> int:
    """Close offers whose link ran out and offer their time to the next patients (periodic)."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            WaitlistOffer.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(status=WaitlistOfferStatus.OFFERED, expires_at__lte=now)
            .select_related("entry")
            .order_by("pk")
        )
        for offer in stale:
            _close(offer, WaitlistOfferStatus.EXPIRED, now)
        if stale:
            audit_record(
                context=SYSTEM_CONTEXT,
                action=AuditAction.UPDATE,
                patient_ids=[o.entry.patient_id for o in stale],
                object_type="waitlist_offer",
                detail={"event": "offers expired", "offers": [o.pk for o in stale]},
            )
    for schedule_id, start, end in sorted({(o.schedule_id, o.start, o.end) for o in stale}):
        waitlist_time_freed(schedule_id=schedule_id, start=start, end=end)
    return len(stale)


# --- Staff -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryRequest:
    """What the patient is waiting for (from forms_waitlist.WaitlistEntryForm)."""

    appointment_type: AppointmentType
    providers: Iterable[Provider]
    location: Location | None
    earliest_date: dt.date
    latest_date: dt.date
    weekdays: Sequence[str]
    time_of_day: str
    priority: int
    note: str
    current_appointment: Appointment | None


def waitlist_entry_add(
    *, context: AuditContext, user: User, patient: Patient, request: EntryRequest
) -> WaitlistEntry:
    """Put a patient on the waitlist (one open wait per patient and visit type)."""
    if request.latest_date < request.earliest_date:
        raise WaitlistError("The last day comes before the first day.")
    current = request.current_appointment
    if current is not None and (current.patient_id != patient.pk or current.status not in _HELD):
        raise WaitlistError("Only a booked appointment of this patient can be kept and moved.")
    entry = WaitlistEntry(
        clinic_id=patient.clinic_id,
        patient=patient,
        appointment_type=request.appointment_type,
        location=request.location,
        earliest_date=request.earliest_date,
        latest_date=request.latest_date,
        weekdays="".join(sorted(set(request.weekdays))),
        time_of_day=request.time_of_day,
        priority=request.priority,
        note=request.note.strip(),
        current_appointment=current,
        created_at=timezone.now(),
        created_by=user,
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
            entry.providers.set(list(request.providers))
            audit_record(
                context=context,
                action=AuditAction.CREATE,
                patient_ids=[patient.pk],
                object_type="waitlist_entry",
                object_id=entry.pk,
                detail={"type": request.appointment_type.pk, "priority": request.priority},
            )
    except IntegrityError:
        raise WaitlistError(
            f"{patient.given_name} {patient.family_name} is already waiting for a "
            f"{request.appointment_type.name}. Change or remove that entry instead."
        ) from None
    return entry


_CLOSED_WORDS = {
    WaitlistStatus.BOOKED: "has already been booked from the waitlist",
    WaitlistStatus.REMOVED: "has been removed from the waitlist",
}


def waitlist_entry_closed_message(entry: WaitlistEntry) -> str:
    """Why a booked or removed entry cannot be changed, in the desk's words."""
    words = _CLOSED_WORDS.get(WaitlistStatus(entry.status), "is no longer waiting")
    return (
        f"This patient {words}, so the entry cannot be changed. To wait again, put them on "
        "the waitlist from their chart."
    )


def offer_fits_entry(
    offer: WaitlistOffer, entry: WaitlistEntry, *, offered_type_id: int, provider_ids: set[int]
) -> bool:
    """Whether an offered time still matches what the entry waits for: the type of visit it
    was offered for (`offered_type_id`; its length and who may see it), a provider (`provider_ids`,
    empty: any) and location the entry accepts, a day in its range and on its days, its time of
    day, and earlier than the booking it keeps."""
    if offered_type_id != entry.appointment_type_id:
        return False
    if provider_ids and offer.provider_id not in provider_ids:
        return False
    if entry.location_id is not None and offer.schedule.location_id != entry.location_id:
        return False
    local = offer.start.astimezone(clinic_zone())
    if not entry.earliest_date <= local.date() <= entry.latest_date:
        return False
    preferences = _preferences(entry)
    if not preferences.accepts_day(local.date()) or not preferences.accepts_time(local.time()):
        return False
    current = entry.current_appointment
    return current is None or current.status not in _HELD or offer.start < current.start


def waitlist_entry_change(
    *, context: AuditContext, user: User, entry: WaitlistEntry, request: EntryRequest
) -> list[WaitlistOffer]:
    """Change what an open entry waits for (the booking it keeps stays as it is). Offers out
    for it that no longer match the new terms are withdrawn as a removal withdraws them (closed
    as withdrawn by the clinic, their times offered to the next patients); matching offers stay
    open.
    Returns the withdrawn offers."""
    if request.latest_date < request.earliest_date:
        raise WaitlistError("The last day comes before the first day.")
    withdrawn = _retrying_deadlocks(
        lambda: _change(context=context, user=user, entry=entry, request=request)
    )
    for offer in withdrawn:
        waitlist_time_freed(schedule_id=offer.schedule_id, start=offer.start, end=offer.end)
    return withdrawn


# What an edit can change, compared before and after for the audit trail.
_CHANGEABLE = (
    "appointment_type_id",
    "location_id",
    "earliest_date",
    "latest_date",
    "weekdays",
    "time_of_day",
    "priority",
    "note",
)


def _offers_made_meanwhile(entry_id: int, seen: Sequence[WaitlistOffer]) -> list[WaitlistOffer]:
    """Open offers of the entry made after its offers were locked and before the entry was:
    an offering of freed time that held the entry's lock and has just committed. Taken without
    waiting (SKIP LOCKED), since the entry is locked now: an offer locked by someone else is
    being answered, and once this commits its acceptance finds the entry closed or the offer
    no longer fitting it (and books nothing), or its decline closes it."""
    return list(
        WaitlistOffer.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("schedule")
        .filter(entry_id=entry_id, status=WaitlistOfferStatus.OFFERED)
        .exclude(pk__in=[o.pk for o in seen])
        .order_by("pk")
    )


@transaction.atomic
def _change(
    *, context: AuditContext, user: User, entry: WaitlistEntry, request: EntryRequest
) -> list[WaitlistOffer]:
    # Offers first, then the entry, in the order `_remove` and an acceptance take them.
    open_offers = list(
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related("schedule")
        .filter(entry_id=entry.pk, status=WaitlistOfferStatus.OFFERED)
        .order_by("pk")
    )
    locked = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient", "appointment_type", "current_appointment")
        .get(pk=entry.pk)
    )
    if locked.status != WaitlistStatus.WAITING:
        raise WaitlistError(waitlist_entry_closed_message(locked))
    open_offers += _offers_made_meanwhile(entry.pk, open_offers)
    current = locked.current_appointment
    if (
        current is not None
        and current.status in _HELD
        and request.appointment_type.pk != current.appointment_type_id
    ):
        raise WaitlistError(
            "To move the booked appointment earlier, wait for the same type of visit."
        )
    before = {name: getattr(locked, name) for name in _CHANGEABLE}
    providers_before = set(locked.providers.values_list("pk", flat=True))
    old_type_id = locked.appointment_type_id
    locked.appointment_type = request.appointment_type
    locked.location = request.location
    locked.earliest_date = request.earliest_date
    locked.latest_date = request.latest_date
    locked.weekdays = "".join(sorted(set(request.weekdays)))
    locked.time_of_day = request.time_of_day
    locked.priority = request.priority
    locked.note = request.note.strip()
    provider_ids = {p.pk for p in request.providers}
    changed = [
        name.removesuffix("_id") for name in _CHANGEABLE if getattr(locked, name) != before[name]
    ]
    if provider_ids != providers_before:
        changed.append("providers")
    now = timezone.now()
    withdrawn: list[WaitlistOffer] = []
    try:
        with transaction.atomic():
            locked.save(update_fields=[name.removesuffix("_id") for name in _CHANGEABLE])
            locked.providers.set(list(request.providers))
            for offer in open_offers:
                if not offer_fits_entry(
                    offer, locked, offered_type_id=old_type_id, provider_ids=provider_ids
                ):
                    _close(offer, WaitlistOfferStatus.WITHDRAWN, now)
                    withdrawn.append(offer)
            audit_record(
                context=context,
                action=AuditAction.UPDATE,
                patient_ids=[locked.patient_id],
                object_type="waitlist_entry",
                object_id=locked.pk,
                detail={
                    "event": "waitlist entry changed",
                    "changed": changed,
                    "withdrawn": [o.pk for o in withdrawn],
                    "by": user.username,
                },
            )
    except IntegrityError:
        patient = locked.patient
        raise WaitlistError(
            f"{patient.given_name} {patient.family_name} is already waiting for a "
            f"{request.appointment_type.name}. Change or remove that entry instead."
        ) from None
    return withdrawn


def waitlist_entry_remove(*, context: AuditContext, user: User, entry: WaitlistEntry) -> None:
    """Take a patient off the waitlist; their open offers close as withdrawn by the clinic (the
    patient did not decline them) and those times go to the next patients."""
    closed = _retrying_deadlocks(lambda: _remove(context=context, user=user, entry=entry))
    for offer in closed:
        waitlist_time_freed(schedule_id=offer.schedule_id, start=offer.start, end=offer.end)


@transaction.atomic
def _remove(*, context: AuditContext, user: User, entry: WaitlistEntry) -> list[WaitlistOffer]:
    # Offers first, then the entry: the order an acceptance takes them (`_lock_offer`), so a
    # removal and an acceptance wait on each other instead of deadlocking. An offer accepted
    # meanwhile drops out of the filter once its lock is released.
    open_offers = list(
        WaitlistOffer.objects.select_for_update()
        .filter(entry_id=entry.pk, status=WaitlistOfferStatus.OFFERED)
        .order_by("pk")
    )
    locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.status != WaitlistStatus.WAITING:
        raise WaitlistError("This patient is no longer waiting.")
    open_offers += _offers_made_meanwhile(entry.pk, open_offers)
    now = timezone.now()
    locked.status = WaitlistStatus.REMOVED
    locked.closed_at = now
    locked.save(update_fields=["status", "closed_at"])
    for offer in open_offers:
        _close(offer, WaitlistOfferStatus.WITHDRAWN, now)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[locked.patient_id],
        object_type="waitlist_entry",
        object_id=locked.pk,
        detail={
            "event": "removed from the waitlist",
            "withdrawn": [o.pk for o in open_offers],
            "by": user.username,
        },
    )
    return open_offers


def waitlist_entry_book(
    *,
    context: AuditContext,
    user: User,
    entry: WaitlistEntry,
    schedule: Schedule,
    start: dt.datetime,
    confirmed: bool = False,
) -> Appointment:
    """Staff fill a free time by hand with a waitlisted patient: booked (or their booking
    moved) under the same guarantee as any booking. A time offered to other waiting patients
    is refused with `services.OfferedTimeError` unless the officer `confirmed` going ahead;
    then those open offers become gone and the patients are told."""
    appointment, gone = _retrying_deadlocks(
        lambda: _book_by_staff(
            context=context,
            user=user,
            entry=entry,
            schedule=schedule,
            start=start,
            confirmed=confirmed,
        )
    )
    _wake_outbox(gone)
    return appointment


@transaction.atomic
def _book_by_staff(
    *,
    context: AuditContext,
    user: User,
    entry: WaitlistEntry,
    schedule: Schedule,
    start: dt.datetime,
    confirmed: bool,
) -> tuple[Appointment, list[WaitlistOffer]]:
    now = timezone.now()
    locked = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient", "appointment_type", "current_appointment")
        .get(pk=entry.pk)
    )
    if locked.status != WaitlistStatus.WAITING:
        raise WaitlistError("This patient is no longer waiting.")
    # A restricted record needs a stated reason (break the glass) like any other booking.
    access_patient(user, locked.patient_id)
    appointment = _take(
        context=context,
        user=user,
        entry=locked,
        schedule=schedule,
        start=start,
        offers=services.OpenOffers.LEAVE if confirmed else services.OpenOffers.REFUSE,
    )
    _close_entry(locked, now)
    gone = _withdraw_overlapping(
        schedule_id=schedule.pk, start=appointment.start, end=appointment.end, now=now
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[locked.patient_id, *(o.entry.patient_id for o in gone)],
        object_type="waitlist_entry",
        object_id=locked.pk,
        detail={
            "event": "booked from the waitlist by staff",
            "appointment": appointment.pk,
            "gone": [o.pk for o in gone],
        },
    )
    return appointment, gone
