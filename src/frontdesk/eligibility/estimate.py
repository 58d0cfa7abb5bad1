"""The patient's estimate for a visit: what they owe today and later, from the clinic's fee for
the type of visit and the payer's benefits in the 271 (pure: no database).

A co-pay is owed today and the plan pays the rest. Without one, the patient pays the fee up to
what remains of the deductible, then the coinsurance on the rest, all capped by what remains of
the out-of-pocket maximum; that is billed later, after the claim. Without active coverage the
whole fee is the patient's (self-pay)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Estimate:
    fee: Decimal
    today: Decimal
    later: Decimal
    basis: str  # how it was worked out, in words


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def estimate(*, fee: Decimal, active: bool, benefit: dict[str, Any] | None) -> Estimate:
    """`benefit` is one service type of a read 271 (`x12.Benefit` as JSON)."""
    if not active or benefit is None:
        return Estimate(fee, fee, ZERO, "no active coverage confirmed: the whole fee")
    copay = _amount(benefit.get("copay"))
    if copay is not None:
        today = min(copay, fee)
        return Estimate(fee, today, ZERO, "co-pay; the plan pays the rest")
    deductible_left = _amount(benefit.get("deductible_remaining"))
    coinsurance = _amount(benefit.get("coinsurance")) or ZERO
    out_of_pocket_left = _amount(benefit.get("out_of_pocket_remaining"))
    from_deductible = min(fee, deductible_left) if deductible_left is not None else ZERO
    share = from_deductible + (fee - from_deductible) * min(coinsurance, Decimal(1))
    if out_of_pocket_left is not None:
        share = min(share, out_of_pocket_left)
    share = share.quantize(CENT, rounding=ROUND_HALF_UP)
    words = (
        f"deductible left {from_deductible:.2f}, then {coinsurance * 100:.0f} % coinsurance"
        if deductible_left
        else f"{coinsurance * 100:.0f} % coinsurance"
    )
    return Estimate(
        fee,
        ZERO,
        share,
        words + (", capped by the out-of-pocket maximum" if out_of_pocket_left is not None else ""),
    )
