"""The patient's estimate from the fee and the 271's benefits, in Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from frontdesk.eligibility.estimate import estimate

FEE = Decimal("150.00")


def test_a_copay_is_owed_today_and_the_plan_pays_the_rest() -> None:
    got = estimate(fee=FEE, active=True, benefit={"copay": "25.00", "coinsurance": "0.20"})

    assert (got.today, got.later) == (Decimal("25.00"), Decimal("0.00"))


def test_without_a_copay_the_deductible_left_then_coinsurance_is_billed_later() -> None:
    got = estimate(
        fee=FEE, active=True, benefit={"coinsurance": "0.20", "deductible_remaining": "100.00"}
    )

    assert got.today == Decimal("0.00")
    assert got.later == Decimal("110.00")  # 100 of deductible + 20 % of the other 50


def test_the_share_never_passes_what_is_left_of_the_out_of_pocket_maximum() -> None:
    got = estimate(
        fee=FEE,
        active=True,
        benefit={
            "coinsurance": "0.5",
            "deductible_remaining": "0",
            "out_of_pocket_remaining": "30.00",
        },
    )

    assert got.later == Decimal("30.00")


@pytest.mark.parametrize("benefit", [None, {"copay": "25.00"}])
def test_without_active_coverage_the_whole_fee_is_the_patients(benefit: object) -> None:
    got = estimate(fee=FEE, active=False, benefit=benefit)  # type: ignore[arg-type]

    assert (got.today, got.later) == (FEE, Decimal("0.00"))


def test_an_unreadable_amount_in_the_answer_is_ignored_not_a_crash() -> None:
    got = estimate(fee=FEE, active=True, benefit={"copay": "1e3x", "coinsurance": "NaN"})

    assert got.later == Decimal("0.00") and got.today == Decimal("0.00")
