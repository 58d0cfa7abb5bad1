"""Reads of cash drawers: what a drawer should hold, the day's drawers, the deposit report.

Drawer pages show amounts, methods and officers, never patients: a line links to its receipt,
whose page is the audited read of the patient's account.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from frontdesk.accounts.models import User
from frontdesk.billing.models import (
    DEFAULT_TOLERANCE,
    CashDrawer,
    DrawerCloseOut,
    DrawerRules,
    DrawerStatus,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
)
from frontdesk.clinic.models import Location
from frontdesk.lib.money import CENT, denominations

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class MethodTotal:
    """One method's money through a drawer: taken in, given back (refunds and voids), net."""

    method: str
    taken: Decimal = ZERO
    given_back: Decimal = ZERO
    payments: int = 0

    @property
    def net(self) -> Decimal:
        return self.taken - self.given_back


@dataclass(frozen=True)
class DrawerTotals:
    """What a drawer should hold: the float plus the net cash; card and cheque totals apart."""

    opening_float: Decimal
    by_method: dict[str, MethodTotal]

    def net(self, method: str) -> Decimal:
        total = self.by_method.get(method)
        return total.net if total is not None else ZERO

    @property
    def expected_cash(self) -> Decimal:
        return self.opening_float + self.net(PaymentMethod.CASH)


def drawer_totals(drawers: list[CashDrawer]) -> dict[int, DrawerTotals]:
    """Each drawer's totals by method, from one grouped query over its entries."""
    sums: dict[int, dict[str, dict[str, tuple[Decimal, int]]]] = defaultdict(dict)
    rows = (
        LedgerEntry.objects.filter(drawer__in=drawers)
        .values("drawer_id", "method", "kind")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .order_by()
    )
    for row in rows:
        # SQLite hands sums back with float noise; the ledger has cents only.
        total = Decimal(row["total"]).quantize(CENT)
        sums[row["drawer_id"]].setdefault(row["method"], {})[row["kind"]] = (total, row["n"])
    result = {}
    for drawer in drawers:
        by_method = {}
        for method, kinds in sums.get(drawer.pk, {}).items():
            taken, count = kinds.get(EntryKind.PAYMENT, (ZERO, 0))
            back = (
                kinds.get(EntryKind.REFUND, (ZERO, 0))[0] + kinds.get(EntryKind.VOID, (ZERO, 0))[0]
            )
            by_method[method] = MethodTotal(method, taken, back, count)
        result[drawer.pk] = DrawerTotals(drawer.opening_float, by_method)
    return result


def drawer_tolerance(clinic_id: int) -> Decimal:
    """How far a count may be off either way without a reason (the clinic's drawer rules)."""
    held = (
        DrawerRules.objects.filter(clinic_id=clinic_id)
        .values_list("variance_tolerance", flat=True)
        .first()
    )
    return Decimal(DEFAULT_TOLERANCE) if held is None else Decimal(held)


def open_drawer_of(user: User) -> CashDrawer | None:
    return (
        CashDrawer.objects.filter(officer=user, status=DrawerStatus.OPEN)
        .select_related("location")
        .first()
    )


def drawer_has_open(user: User) -> bool:
    return CashDrawer.objects.filter(officer=user, status=DrawerStatus.OPEN).exists()


def drawer_entries(drawer: CashDrawer) -> list[LedgerEntry]:
    """The drawer's money, oldest first: no patient fields are read."""
    return list(
        LedgerEntry.objects.filter(drawer=drawer)
        .only("pk", "kind", "method", "amount", "created_at", "reverses_id", "description")
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class OwnDrawer:
    """The officer's page: their open drawer (or None), its totals and lines, and where a new
    drawer may be opened."""

    drawer: CashDrawer | None
    totals: DrawerTotals | None
    entries: list[LedgerEntry]
    locations: list[Location]
    tolerance: Decimal
    last_closed: CashDrawer | None = None


def own_drawer_page(user: User) -> OwnDrawer:
    drawer = open_drawer_of(user)
    locations = list(Location.objects.filter(clinic_id=user.clinic_id or 0).order_by("name"))
    tolerance = drawer_tolerance(user.clinic_id or 0)
    last_closed = (
        CashDrawer.objects.filter(officer=user, status=DrawerStatus.CLOSED)
        .select_related("location", "close_out")
        .order_by("-opened_at")
        .first()
    )
    if drawer is None:
        return OwnDrawer(None, None, [], locations, tolerance, last_closed)
    totals = drawer_totals([drawer])[drawer.pk]
    return OwnDrawer(drawer, totals, drawer_entries(drawer), locations, tolerance, last_closed)


@dataclass(frozen=True)
class DrawerLine:
    drawer: CashDrawer
    totals: DrawerTotals
    close_out: DrawerCloseOut | None
    reviewed: bool


def _lines(drawers: list[CashDrawer]) -> list[DrawerLine]:
    totals = drawer_totals(drawers)
    lines = []
    for drawer in drawers:
        close_out = getattr(drawer, "close_out", None) if drawer.status == "closed" else None
        reviewed = close_out is not None and hasattr(close_out, "review")
        lines.append(DrawerLine(drawer, totals[drawer.pk], close_out, reviewed))
    return lines


def _day_drawers(clinic_id: int, day: dt.date, location_id: int | None) -> list[CashDrawer]:
    drawers = CashDrawer.objects.filter(clinic_id=clinic_id, business_day=day)
    if location_id is not None:
        drawers = drawers.filter(location_id=location_id)
    return list(
        drawers.select_related("location", "officer", "close_out", "close_out__review").order_by(
            "location__name", "opened_at", "pk"
        )
    )


def day_drawers(
    *, clinic_id: int, day: dt.date, location_id: int | None = None
) -> list[DrawerLine]:
    """The day's drawers of a clinic (or one location) with their close-outs; three queries."""
    return _lines(_day_drawers(clinic_id, day, location_id))


def drawer_detail(*, clinic_id: int, drawer_id: int) -> tuple[DrawerLine, list[LedgerEntry]] | None:
    """One drawer of the clinic with its lines, or None (another clinic's is not found)."""
    drawer = (
        CashDrawer.objects.filter(clinic_id=clinic_id, pk=drawer_id)
        .select_related("location", "officer", "close_out", "close_out__review")
        .first()
    )
    if drawer is None:
        return None
    return _lines([drawer])[0], drawer_entries(drawer)


@dataclass(frozen=True)
class CountLine:
    label: str
    count: int
    value: Decimal


def count_lines(close_out: DrawerCloseOut) -> list[CountLine]:
    """The close-out's count by denomination, largest first, for the page."""
    counts = close_out.denomination_counts or {}
    return [
        CountLine(d.label, int(counts.get(d.key, 0)), d.value * int(counts.get(d.key, 0)))
        for d in denominations()
        if counts.get(d.key)
    ]


@dataclass
class LocationDeposit:
    """One location's deposit for a day: cash and cheques to the bank, card totals to match
    the card terminal's batch."""

    location: Location
    lines: list[DrawerLine] = field(default_factory=list)
    cash_to_bank: Decimal = ZERO
    cheques: Decimal = ZERO
    cheque_count: int = 0
    card: Decimal = ZERO
    other: Decimal = ZERO
    variance: Decimal = ZERO
    still_open: int = 0


def deposit_report(
    *, clinic_id: int, day: dt.date, location_id: int | None = None
) -> list[LocationDeposit]:
    """The day's deposit per location. Cash to the bank is what was counted less the float,
    which stays in the drawer for the next day; a drawer still open is named and left out, as
    its cash is not yet counted."""
    by_location: dict[int, LocationDeposit] = {}
    for line in day_drawers(clinic_id=clinic_id, day=day, location_id=location_id):
        deposit = by_location.setdefault(
            line.drawer.location_id, LocationDeposit(location=line.drawer.location)
        )
        deposit.lines.append(line)
        if line.close_out is None:
            deposit.still_open += 1
            continue
        deposit.cash_to_bank += line.close_out.counted_cash - line.drawer.opening_float
        deposit.variance += line.close_out.variance
        deposit.cheques += line.totals.net(PaymentMethod.CHEQUE)
        cheque = line.totals.by_method.get(PaymentMethod.CHEQUE)
        deposit.cheque_count += cheque.payments if cheque else 0
        deposit.card += line.totals.net(PaymentMethod.CARD)
        deposit.other += line.totals.net(PaymentMethod.OTHER)
    return list(by_location.values())


def drawer_variances_open(clinic_id: int) -> int:
    """Variances beyond tolerance no supervisor has looked at yet."""
    return DrawerCloseOut.objects.filter(
        drawer__clinic_id=clinic_id, beyond_tolerance=True, review__isnull=True
    ).count()
