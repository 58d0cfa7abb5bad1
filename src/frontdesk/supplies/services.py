"""Writes of office supplies: the item list, counts and changes; each logged and audited, and
the desk queue told when an item falls below par or is restocked."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.desk.live import desk_changed
from frontdesk.supplies.models import QUANTITY_MAX, LogKind, SupplyItem, SupplyLogEntry


class SupplyRefusedError(ValueError):
    """The change cannot be made; the message says why in the officer's words."""


def _quantity(value: int, *, what: str) -> int:
    if value < 0:
        raise SupplyRefusedError(f"{what} cannot be below zero.")
    if value > QUANTITY_MAX:
        raise SupplyRefusedError(f"{what} of more than {QUANTITY_MAX:,} looks like a typo.")
    return value


def _settle(item: SupplyItem, *, was_below: bool, now: dt.datetime) -> None:
    """Keep `below_par_since` true to the count, and tell the desk whenever the item is or was
    on its queue (it came, went, or its words changed)."""
    if item.below_par and not was_below:
        item.below_par_since = now
    elif not item.below_par:
        item.below_par_since = None
    if item.below_par or was_below:
        desk_changed(item.clinic_id)


def _audit(context: AuditContext, item: SupplyItem, action: AuditAction, **detail: object) -> None:
    audit_record(
        context=context,
        action=action,
        object_type=AuditObject.SUPPLY_ITEM,
        object_id=item.pk,
        detail=detail,
    )


@transaction.atomic
def supply_item_save(
    *,
    context: AuditContext,
    user: User,
    item: SupplyItem | None,
    name: str,
    unit: str,
    par_level: int,
    supplier: str,
    active: bool = True,
    on_hand: int = 0,
    now: dt.datetime | None = None,
) -> SupplyItem:
    """Add an item to the clinic's list (with its first count) or change its details; the
    count itself changes only by `supply_count` and `supply_adjust`."""
    now = now or timezone.now()
    if user.clinic_id is None:
        raise SupplyRefusedError("Only staff of a clinic keep its supplies.")
    name, unit, supplier = name.strip(), unit.strip(), supplier.strip()
    if not name or not unit:
        raise SupplyRefusedError("Give the item a name and a unit.")
    _quantity(par_level, what="A par level")
    was_below = item.below_par if item is not None else False
    if item is None:
        item = SupplyItem(
            clinic_id=user.clinic_id, created_at=now, on_hand=_quantity(on_hand, what="A count")
        )
    else:
        item = SupplyItem.objects.select_for_update().get(pk=item.pk, clinic_id=user.clinic_id)
        was_below = item.below_par
    creating = item.pk is None
    item.name, item.unit, item.par_level, item.supplier, item.active = (
        name,
        unit,
        par_level,
        supplier,
        active,
    )
    _settle(item, was_below=was_below, now=now)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise SupplyRefusedError(f"The list has an item named {name!r} already.") from None
    SupplyLogEntry.objects.create(
        item=item,
        at=now,
        by=user,
        kind=LogKind.ADDED if creating else LogKind.CHANGED,
        change=item.on_hand if creating else 0,
        on_hand_after=item.on_hand,
        note=f"Par {par_level} {unit}",
    )
    _audit(
        context, item, AuditAction.CREATE if creating else AuditAction.UPDATE, par_level=par_level
    )
    return item


def _locked(user: User, item: SupplyItem) -> SupplyItem:
    if user.clinic_id is None:
        raise SupplyRefusedError("Only staff of a clinic keep its supplies.")
    held = SupplyItem.objects.select_for_update().filter(pk=item.pk, clinic_id=user.clinic_id)
    found = held.first()
    if found is None:
        raise SupplyRefusedError("That item is not on this clinic's list.")
    return found


@transaction.atomic
def supply_count(
    *,
    context: AuditContext,
    user: User,
    item: SupplyItem,
    counted: int,
    note: str = "",
    now: dt.datetime | None = None,
) -> SupplyLogEntry:
    """What is on the shelf now, counted: it replaces the number on file."""
    now = now or timezone.now()
    _quantity(counted, what="A count")
    item = _locked(user, item)
    was_below, before = item.below_par, item.on_hand
    item.on_hand = counted
    _settle(item, was_below=was_below, now=now)
    item.save(update_fields=["on_hand", "below_par_since"])
    entry = SupplyLogEntry.objects.create(
        item=item,
        at=now,
        by=user,
        kind=LogKind.COUNTED,
        change=counted - before,
        on_hand_after=counted,
        note=note.strip()[:300],
    )
    _audit(context, item, AuditAction.UPDATE, counted=counted, before=before)
    return entry


@transaction.atomic
def supply_adjust(
    *,
    context: AuditContext,
    user: User,
    item: SupplyItem,
    kind: LogKind,
    quantity: int,
    note: str = "",
    now: dt.datetime | None = None,
) -> SupplyLogEntry:
    """A delivery received (adds), some taken for use (takes away), or a correction (either
    way, with a note saying why)."""
    now = now or timezone.now()
    if kind not in (LogKind.RECEIVED, LogKind.USED, LogKind.CORRECTED):
        raise SupplyRefusedError("Choose a delivery, a use or a correction.")
    if kind != LogKind.CORRECTED:
        if quantity <= 0:
            raise SupplyRefusedError("Type how many, more than zero.")
        quantity = _quantity(quantity, what="A quantity")
        change = quantity if kind == LogKind.RECEIVED else -quantity
    else:
        if not note.strip():
            raise SupplyRefusedError("Say why the count is corrected.")
        if quantity == 0 or abs(quantity) > QUANTITY_MAX:
            raise SupplyRefusedError("Type the correction: a number above or below zero.")
        change = quantity
    item = _locked(user, item)
    was_below = item.below_par
    if item.on_hand + change < 0:
        raise SupplyRefusedError(
            f"Only {item.on_hand} {item.unit} on file; count the shelf if that is wrong."
        )
    item.on_hand += change
    _settle(item, was_below=was_below, now=now)
    item.save(update_fields=["on_hand", "below_par_since"])
    entry = SupplyLogEntry.objects.create(
        item=item,
        at=now,
        by=user,
        kind=kind,
        change=change,
        on_hand_after=item.on_hand,
        note=note.strip()[:300],
    )
    _audit(context, item, AuditAction.UPDATE, kind=kind, change=change)
    return entry
