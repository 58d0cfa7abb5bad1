"""Reads of office supplies (no patient data, so nothing here is audited)."""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from frontdesk.accounts.models import User
from frontdesk.supplies.models import SupplyItem, SupplyLogEntry


def supply_items(user: User) -> QuerySet[SupplyItem]:
    """The clinic's items, those below par first, then by name."""
    if user.clinic_id is None:
        return SupplyItem.objects.none()
    return SupplyItem.objects.filter(clinic_id=user.clinic_id).order_by(
        "-active", F("below_par_since").asc(nulls_last=True), "name"
    )


def access_supply_item(user: User, item_id: int) -> SupplyItem:
    """One of the clinic's items, or 404 (another clinic's items do not exist here)."""
    return get_object_or_404(
        SupplyItem, pk=item_id, clinic_id=user.clinic_id, clinic_id__isnull=False
    )


def supply_log(item: SupplyItem, limit: int = 50) -> list[SupplyLogEntry]:
    return list(item.log.select_related("by")[:limit])


def supply_reorder_list(user: User) -> list[SupplyItem]:
    """Active items below par, by supplier then name: what to order and how many."""
    if user.clinic_id is None:
        return []
    return list(
        SupplyItem.objects.filter(
            clinic_id=user.clinic_id,
            active=True,
            on_hand__lt=F("par_level"),
        ).order_by("supplier", "name")
    )
