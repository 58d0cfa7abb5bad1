"""Cash drawers: opened with a counted float, closed with a count by denomination.

Every payment an officer takes goes into their open drawer (services.drawer_for_money). At the
close-out the cash counted is set against the cash expected (float + cash taken - cash given
back); a variance beyond the clinic's tolerance needs a reason and waits on the supervisors'
desk queue (billing/desk.py) until a supervisor has reviewed it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.billing.drawer_selectors import drawer_tolerance, drawer_totals
from frontdesk.billing.models import (
    CashDrawer,
    DrawerCloseOut,
    DrawerRules,
    DrawerStatus,
    DrawerVarianceReview,
    PaymentMethod,
)
from frontdesk.billing.services import BillingRefusedError
from frontdesk.clinic.models import Location
from frontdesk.desk.live import desk_changed
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.money import CENT, MAX_AMOUNT, denominations, money_format

# The most of one note or coin a drawer can hold: a count above it is a typing slip.
MAX_COUNT = 100_000
# A tolerance above this would let any shortfall through without a word.
TOLERANCE_MAX = Decimal("100.00")


class DrawerAlreadyClosedError(BillingRefusedError):
    def __init__(self) -> None:
        super().__init__("This drawer is closed already; nothing was counted twice.")


@transaction.atomic
def drawer_open(
    *,
    context: AuditContext,
    user: User,
    location: Location,
    opening_float: Decimal,
    now: dt.datetime,
) -> CashDrawer:
    """Open the officer's drawer at `location` with the float they counted. At most one open
    drawer per officer (the database refuses a second)."""
    if location.clinic_id != user.clinic_id or user.clinic_id is None:
        raise BillingRefusedError("Choose a location of your clinic.")
    if not isinstance(opening_float, Decimal) or opening_float < 0:
        raise BillingRefusedError("The float cannot be negative; count it again.")
    if opening_float > MAX_AMOUNT:
        raise BillingRefusedError("That float is too large; count it again.")
    held = CashDrawer.objects.filter(officer=user, status=DrawerStatus.OPEN).first()
    if held is not None:
        raise BillingRefusedError(
            f"Your drawer at {held.location} is open already; close it before opening another."
        )
    try:
        with transaction.atomic():
            drawer = CashDrawer.objects.create(
                clinic_id=user.clinic_id,
                location=location,
                officer=user,
                business_day=now.astimezone(clinic_zone(user.clinic_id)).date(),
                opening_float=opening_float.quantize(CENT),
                opened_at=now,
            )
    except IntegrityError:
        raise BillingRefusedError(
            "You opened a drawer a moment ago (another window?); use that one."
        ) from None
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type=AuditObject.CASH_DRAWER,
        object_id=drawer.pk,
        detail={"location": location.pk, "float": str(drawer.opening_float)},
    )
    return drawer


@dataclass(frozen=True)
class Count:
    """What the officer counted: how many of each note and coin, by denomination key."""

    counts: dict[str, int]

    @property
    def total(self) -> Decimal:
        return sum(
            (d.value * self.counts.get(d.key, 0) for d in denominations()), Decimal("0.00")
        ).quantize(CENT)


def count_check(counts: dict[str, int]) -> None:
    """A count is whole, not negative numbers of known notes and coins."""
    known = {d.key for d in denominations()}
    for key, number in counts.items():
        if key not in known:
            raise BillingRefusedError("That note or coin is not one of the clinic's currency.")
        if not isinstance(number, int) or number < 0:
            raise BillingRefusedError("A count cannot be negative; count that note again.")
        if number > MAX_COUNT:
            raise BillingRefusedError("That count is too large; count that note again.")


@dataclass(frozen=True)
class ClosePreview:
    expected_cash: Decimal
    counted_cash: Decimal
    variance: Decimal
    tolerance: Decimal

    @property
    def beyond_tolerance(self) -> bool:
        return abs(self.variance) > self.tolerance


def variance_words(variance: Decimal) -> str:
    if variance == 0:
        return "balanced"
    return f"{money_format(abs(variance))} {'over' if variance > 0 else 'short'}"


class VarianceReasonRequiredError(BillingRefusedError):
    """The count is off by more than the tolerance: the officer must say why."""

    def __init__(self, preview: ClosePreview) -> None:
        super().__init__(
            f"The count is {variance_words(preview.variance)}, beyond the clinic's tolerance of "
            f"{money_format(preview.tolerance)}: count again, or say what happened."
        )
        self.preview = preview


def _may_close(user: User, drawer: CashDrawer) -> bool:
    # A supervisor closes the drawer of an officer who left without closing it.
    return drawer.officer_id == user.pk or (
        user.role == Role.SUPERVISOR and drawer.clinic_id == user.clinic_id
    )


@transaction.atomic
def drawer_close(
    *,
    context: AuditContext,
    user: User,
    drawer_id: int,
    counts: dict[str, int],
    reason: str,
    now: dt.datetime,
) -> DrawerCloseOut:
    """Close a drawer with the cash counted by denomination.

    The drawer row is locked first, so a payment cannot slip in while it is counted and a
    second close-out waits and is then refused (`DrawerAlreadyClosedError`); the close-out's
    primary key is the drawer, so the database refuses a second one in any case. A variance
    beyond the tolerance without a reason raises `VarianceReasonRequiredError`, writing nothing.
    """
    drawer = (
        CashDrawer.objects.select_for_update()
        .filter(pk=drawer_id, clinic_id=user.clinic_id or 0)
        .first()
    )
    if drawer is None or not _may_close(user, drawer):
        raise BillingRefusedError("No such drawer of yours.")
    if drawer.status != DrawerStatus.OPEN:
        raise DrawerAlreadyClosedError
    count_check(counts)
    totals = drawer_totals([drawer])[drawer.pk]
    counted = Count(counts).total
    preview = ClosePreview(
        expected_cash=totals.expected_cash,
        counted_cash=counted,
        variance=counted - totals.expected_cash,
        tolerance=drawer_tolerance(drawer.clinic_id),
    )
    reason = reason.strip()
    if preview.beyond_tolerance and not reason:
        raise VarianceReasonRequiredError(preview)
    try:
        with transaction.atomic():
            close_out = DrawerCloseOut.objects.create(
                drawer=drawer,
                closed_by=user,
                closed_at=now,
                denomination_counts={k: v for k, v in counts.items() if v},
                counted_cash=counted,
                expected_cash=preview.expected_cash,
                expected_card=totals.net(PaymentMethod.CARD),
                expected_cheque=totals.net(PaymentMethod.CHEQUE),
                expected_other=totals.net(PaymentMethod.OTHER),
                variance=preview.variance,
                tolerance=preview.tolerance,
                beyond_tolerance=preview.beyond_tolerance,
                reason=reason[:500],
            )
    except IntegrityError:
        raise DrawerAlreadyClosedError from None
    if not CashDrawer.objects.filter(pk=drawer.pk, status=DrawerStatus.OPEN).update(
        status=DrawerStatus.CLOSED
    ):
        raise DrawerAlreadyClosedError
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.CASH_DRAWER,
        object_id=drawer.pk,
        detail={
            "closed": True,
            "counted": str(counted),
            "expected": str(preview.expected_cash),
            "variance": str(preview.variance),
            "beyond_tolerance": preview.beyond_tolerance,
        },
    )
    if preview.beyond_tolerance:
        desk_changed(drawer.clinic_id)
    return close_out


@transaction.atomic
def drawer_variance_review(
    *, context: AuditContext, user: User, drawer_id: int, note: str, now: dt.datetime
) -> DrawerVarianceReview:
    """A supervisor records what they found about a variance beyond tolerance; it leaves the
    supervisors' desk queue. Reviewed once."""
    close_out = (
        DrawerCloseOut.objects.select_for_update()
        .filter(drawer_id=drawer_id, drawer__clinic_id=user.clinic_id or 0)
        .first()
    )
    if close_out is None:
        raise BillingRefusedError("This drawer is not closed yet.")
    if not close_out.beyond_tolerance:
        raise BillingRefusedError("This drawer balanced within the tolerance; nothing to review.")
    if not note.strip():
        raise BillingRefusedError("Say what you found or did about the variance.")
    try:
        with transaction.atomic():
            review = DrawerVarianceReview.objects.create(
                close_out=close_out, reviewed_by=user, reviewed_at=now, note=note.strip()[:500]
            )
    except IntegrityError:
        raise BillingRefusedError("This variance was reviewed already.") from None
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.CASH_DRAWER,
        object_id=drawer_id,
        detail={"variance_reviewed": True},
    )
    desk_changed(close_out.drawer.clinic_id)
    return review


@transaction.atomic
def drawer_tolerance_set(
    *, context: AuditContext, clinic_id: int, tolerance: Decimal
) -> DrawerRules:
    """Set how far a clinic's drawer count may be off, either way, without a reason."""
    if not isinstance(tolerance, Decimal) or tolerance < 0:
        raise BillingRefusedError("The tolerance cannot be negative.")
    if tolerance > TOLERANCE_MAX:
        raise BillingRefusedError(f"Keep the tolerance at most {money_format(TOLERANCE_MAX)}.")
    rules, _ = DrawerRules.objects.update_or_create(
        clinic_id=clinic_id, defaults={"variance_tolerance": tolerance.quantize(CENT)}
    )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.CASH_DRAWER,
        object_id=f"rules:{clinic_id}",
        detail={"tolerance": str(rules.variance_tolerance)},
    )
    return rules
