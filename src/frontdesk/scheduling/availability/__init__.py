"""Availability: free time is computed, never stored (Medplum's model).

A schedule's bookable time is its templates' sessions (RFC 5545 rules in clinic local time)
minus clinic holidays; from that, busy time (active, non-overbooked appointments with their
buffers), leave and ad-hoc blocks, unreleased reserved blocks and the type's daily limit are
taken away. Everything here only reads. One job per module:

- `intervals.py`: the sweep over sorted intervals in whole UTC seconds (pure, no Django);
- `queries.py`: the reads (templates, holidays, appointments and blocks, one query each);
- `slots.py`: sessions and the search (`template_sessions`, `free_slots`);
- `reasons.py`: one slot checked, with the refusal in the officer's words (`slot_is_bookable`).

Rule expansion is memoised per (rule, month) in `lib/rrule.py`: dateutil walks a rule from its
DTSTART, which for a template valid since years ago costs milliseconds per call.
bench/next_slot.py measures the search.

`free_slots` and `slot_is_bookable` share the same interval list, so a slot the search offers
is one the booking check accepts. Leave is the provider's, whichever schedule it was entered
on (a provider on holiday is away from every location); ad-hoc and reserved blocks belong to
their schedule. Double bookings are per provider, as the database constraint is.

The package's names below are what the rest of Frontdesk imports.
"""

from __future__ import annotations

from frontdesk.scheduling.availability.reasons import provider_label, slot_is_bookable
from frontdesk.scheduling.availability.slots import (
    FreeSlot,
    Session,
    SlotPreferences,
    TimeOfDay,
    free_slots,
    template_sessions,
)

__all__ = [
    "FreeSlot",
    "Session",
    "SlotPreferences",
    "TimeOfDay",
    "free_slots",
    "provider_label",
    "slot_is_bookable",
    "template_sessions",
]
