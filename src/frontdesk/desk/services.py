"""Writes of the desk's own state of an item: claim, release, snooze, wake, hand over.

Each checks that the item is still open and that this member of staff may see it (the same
query as the page, desk/selectors.py), locks the item's one row (unique per clinic, kind and
ref), changes it, records an audit event and raises the clinic's desk version, all in one
transaction. Two officers claiming at once: the second waits for the first's row lock, then
finds it claimed and is told by whom.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.desk.live import desk_changed
from frontdesk.desk.models import DeskItem
from frontdesk.desk.pools import Pool
from frontdesk.desk.selectors import (
    DeskRow,
    desk_colleagues,
    desk_pools_for,
    desk_row,
    staff_name,
)
from frontdesk.lib.clinic_time import clinic_zone

SNOOZE_REASON_MAX = 200
SNOOZE_LONGEST = dt.timedelta(days=30)


class DeskRefusedError(Exception):
    """Refused, with the reason in the officer's words."""


class DeskItemGoneError(DeskRefusedError):
    """The item is no longer open (its cause was resolved) or not this person's to see."""


def _open_row(user: User, kind: str, ref: int, now: dt.datetime) -> DeskRow:
    row = desk_row(user=user, kind=kind, ref=ref, now=now)
    if row is None:
        raise DeskItemGoneError(
            "This item is no longer on the desk queue: it was resolved or moved."
        )
    return row


def _locked(user: User, kind: str, ref: int, now: dt.datetime) -> DeskItem:
    clinic_id = user.clinic_id
    if clinic_id is None:  # desk_row finds nothing for staff of no clinic
        raise DeskItemGoneError("This item is not on your clinic's desk queue.")
    DeskItem.objects.bulk_create(
        [DeskItem(clinic_id=clinic_id, kind=kind, ref=ref, updated_at=now)],
        ignore_conflicts=True,
    )
    return DeskItem.objects.select_for_update().get(clinic_id=clinic_id, kind=kind, ref=ref)


def _local_time(moment: dt.datetime, clinic_id: int) -> str:
    return moment.astimezone(clinic_zone(clinic_id)).strftime("%H:%M")


def _record(
    *,
    context: AuditContext,
    item: DeskItem,
    row: DeskRow,
    detail: dict[str, object],
) -> None:
    item.updated_at = timezone.now()
    item.save()
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        patient_ids=[row.patient_id] if row.patient_id else [],
        object_type=AuditObject.DESK_ITEM,
        object_id=f"{item.kind}:{item.ref}",
        detail=detail,
    )
    desk_changed(item.clinic_id)


@transaction.atomic
def desk_item_claim(*, context: AuditContext, user: User, kind: str, ref: int) -> DeskItem:
    """This officer takes the item: one officer at a time."""
    now = timezone.now()
    row = _open_row(user, kind, ref, now)
    item = _locked(user, kind, ref, now)
    if item.claimed_by_id == user.pk:
        return item
    if item.claimed_by_id is not None and item.claimed_at is not None:
        holder = User.objects.get(pk=item.claimed_by_id)
        raise DeskRefusedError(
            f"{staff_name(holder)} already has this item (claimed at "
            f"{_local_time(item.claimed_at, item.clinic_id)}). Ask them, or leave it with them."
        )
    item.claimed_by = user
    item.claimed_at = now
    _record(context=context, item=item, row=row, detail={"claimed_by": user.username})
    return item


@transaction.atomic
def desk_item_release(*, context: AuditContext, user: User, kind: str, ref: int) -> DeskItem:
    """Give a claimed item back to the queue (the one who has it, or a supervisor)."""
    now = timezone.now()
    row = _open_row(user, kind, ref, now)
    item = _locked(user, kind, ref, now)
    if item.claimed_by_id is None:
        return item
    if item.claimed_by_id != user.pk and user.role != "supervisor":
        holder = User.objects.get(pk=item.claimed_by_id)
        raise DeskRefusedError(f"{staff_name(holder)} has this item; only they can release it.")
    before = item.claimed_by_id
    item.claimed_by = None
    item.claimed_at = None
    _record(context=context, item=item, row=row, detail={"released_from": before})
    return item


def snooze_check(*, until: dt.datetime | None, reason: str, now: dt.datetime) -> str:
    """The snooze's problem in words, or "" when it is fine."""
    if not reason.strip():
        return "Say why you snooze it (for example: patient asked us to call after 2 pm)."
    if len(reason) > SNOOZE_REASON_MAX:
        return f"Keep the reason under {SNOOZE_REASON_MAX} characters."
    if until is None:
        return "Choose until when to snooze it."
    if until <= now:
        return "That time has already passed: choose a time later than now."
    if until - now > SNOOZE_LONGEST:
        return "Snooze for 30 days at most; for longer, hand it over or resolve it."
    return ""


@transaction.atomic
def desk_item_snooze(
    *,
    context: AuditContext,
    user: User,
    kind: str,
    ref: int,
    until: dt.datetime | None,
    reason: str,
) -> DeskItem:
    """Hide the item from the queue until `until`, for a reason the desk can read later."""
    now = timezone.now()
    problem = snooze_check(until=until, reason=reason, now=now)
    if problem:
        raise DeskRefusedError(problem)
    if until is None:  # snooze_check said so already
        raise DeskRefusedError("Choose until when to snooze it.")
    row = _open_row(user, kind, ref, now)
    item = _locked(user, kind, ref, now)
    if item.claimed_by_id not in (None, user.pk):
        holder = User.objects.get(pk=item.claimed_by_id)
        raise DeskRefusedError(f"{staff_name(holder)} has this item; only they can snooze it.")
    item.snoozed_until = until
    item.snooze_reason = reason.strip()
    _record(
        context=context,
        item=item,
        row=row,
        detail={"snoozed_until": until.isoformat(), "reason": item.snooze_reason},
    )
    return item


@transaction.atomic
def desk_item_wake(*, context: AuditContext, user: User, kind: str, ref: int) -> DeskItem:
    """End a snooze early."""
    now = timezone.now()
    row = _open_row(user, kind, ref, now)
    item = _locked(user, kind, ref, now)
    item.snoozed_until = None
    item.snooze_reason = ""
    _record(context=context, item=item, row=row, detail={"woken": True})
    return item


@transaction.atomic
def desk_item_hand_over(
    *,
    context: AuditContext,
    user: User,
    kind: str,
    ref: int,
    to_user_id: int | None = None,
    to_pool: str = "",
) -> DeskItem:
    """Hand the item to a member of staff (same clinic, a role that may see this kind) or to a
    pool (whose roles may see it). The claim ends: the new owner takes it from there."""
    now = timezone.now()
    if (to_user_id is None) == (not to_pool):
        raise DeskRefusedError("Choose one person or one pool to hand it to.")
    row = _open_row(user, kind, ref, now)
    target: User | None = None
    if to_user_id is not None:
        target = next((u for u in desk_colleagues(user, kind) if u.pk == to_user_id), None)
        if target is None:
            raise DeskRefusedError(
                "That person cannot take this item: choose someone of this clinic whose role "
                "works on it."
            )
    elif to_pool not in {p.value for p in desk_pools_for(kind)}:
        raise DeskRefusedError("That pool does not work on this kind of item: choose another.")
    item = _locked(user, kind, ref, now)
    if item.claimed_by_id not in (None, user.pk) and user.role != "supervisor":
        holder = User.objects.get(pk=item.claimed_by_id)
        raise DeskRefusedError(
            f"{staff_name(holder)} has this item; only they (or a supervisor) can hand it over."
        )
    item.claimed_by = None
    item.claimed_at = None
    item.handed_to = target
    item.handed_to_pool = "" if target else Pool(to_pool).value
    item.handed_at = now
    item.handed_by = user
    _record(
        context=context,
        item=item,
        row=row,
        detail={"handed_to": target.username if target else "", "pool": item.handed_to_pool},
    )
    return item
