"""What a waitlist entry waits for, whether an offered time fits it, and the answers an offer
can get: the vocabulary the entries' and offers' services share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.scheduling.availability import SlotPreferences, TimeOfDay
from frontdesk.scheduling.models import Appointment, AppointmentStatus, WaitlistEntry, WaitlistOffer

# Statuses of a linked appointment that the patient still holds (and would move earlier).
HELD = (AppointmentStatus.BOOKED, AppointmentStatus.PENDING)


@dataclass(frozen=True)
class EntryRequest:
    """What the patient is waiting for (from forms.WaitlistEntryForm)."""

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


TIMES_OF_DAY: dict[str, TimeOfDay] = {"morning": "morning", "afternoon": "afternoon"}


def entry_preferences(entry: WaitlistEntry) -> SlotPreferences:
    return SlotPreferences(
        weekdays=frozenset(int(d) for d in entry.weekdays if d.isdigit()),
        time_of_day=TIMES_OF_DAY.get(entry.time_of_day),
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
    local = offer.start.astimezone(clinic_zone(entry.clinic_id))
    if not entry.earliest_date <= local.date() <= entry.latest_date:
        return False
    preferences = entry_preferences(entry)
    if not preferences.accepts_day(local.date()) or not preferences.accepts_time(local.time()):
        return False
    current = entry.current_appointment
    return current is None or current.status not in HELD or offer.start < current.start


def offer_moves_booking(offer: WaitlistOffer) -> bool:
    """Taking the offer moves a booking the patient already holds (rather than adding one)."""
    current = offer.entry.current_appointment
    return current is not None and current.status in HELD


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
