"""The sliding-fee scale: the household's income against the poverty guideline, the band and
the fee it makes, in Decimal."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import Personas
from frontdesk.audit.models import AuditEvent
from frontdesk.eligibility.assistance import (
    DEFAULT_SCALE,
    ScaleError,
    assess,
    band_list,
    bands_check,
)
from frontdesk.eligibility.estimates import sliding_fee_scale

FEE = Decimal("150.00")


def test_the_default_scale_is_the_2025_guideline_and_says_so() -> None:
    assert DEFAULT_SCALE.year == 2025 and "2025" in DEFAULT_SCALE.label
    four = assess(scale=DEFAULT_SCALE, household_size=4, income=Decimal("32150.00"), fee=FEE)
    assert four.guideline == Decimal("32150.00")  # 15,650 + 3 x 5,500


def test_an_income_at_the_guideline_pays_the_nominal_fee() -> None:
    got = assess(scale=DEFAULT_SCALE, household_size=1, income=Decimal("15650.00"), fee=FEE)

    assert got.percent == Decimal("100.0")
    assert got.discounted_fee == Decimal("20.00")
    assert got.band == "up to 100 % of the poverty guideline: nominal fee $20.00"


def test_a_cent_over_the_guideline_is_the_next_band() -> None:
    got = assess(scale=DEFAULT_SCALE, household_size=1, income=Decimal("15650.01"), fee=FEE)

    assert got.discounted_fee == Decimal("37.50")  # pays 25 % of 150
    assert got.band.startswith("101 to 133 %")


@pytest.mark.parametrize(
    ("income", "pays"),
    [("23475.00", "75.00"), ("31300.00", "112.50"), ("31300.01", "150.00"), ("90000", "150.00")],
)
def test_the_bands_discount_the_fee_up_to_twice_the_guideline(income: str, pays: str) -> None:
    got = assess(scale=DEFAULT_SCALE, household_size=1, income=Decimal(income), fee=FEE)

    assert got.discounted_fee == Decimal(pays)
    assert got.discount == FEE - Decimal(pays)


def test_the_nominal_fee_is_never_more_than_the_fee_itself() -> None:
    got = assess(scale=DEFAULT_SCALE, household_size=2, income=Decimal("0"), fee=Decimal("12.00"))

    assert got.discounted_fee == Decimal("12.00")


@pytest.mark.parametrize("size", [0, 21, 40, -1])
def test_a_household_of_no_one_or_of_dozens_is_refused(size: int) -> None:
    with pytest.raises(ScaleError, match="1 to 20 people"):
        assess(scale=DEFAULT_SCALE, household_size=size, income=Decimal("1000"), fee=FEE)


def test_a_negative_income_is_refused() -> None:
    with pytest.raises(ScaleError, match="cannot be negative"):
        assess(scale=DEFAULT_SCALE, household_size=1, income=Decimal("-1"), fee=FEE)


@pytest.mark.parametrize(
    "bands",
    [
        [],
        [{"up_to": 100, "pays": 10}],  # the last band must be open-ended
        [{"up_to": 200, "pays": 10}, {"up_to": 100, "pays": 50}, {"up_to": None, "pays": 100}],
        [{"up_to": None, "pays": 120}],
        [{"up_to": None, "nominal": "NaN"}],
        [{"up_to": None, "nominal": "5", "pays": 10}],
    ],
)
def test_a_scale_with_bands_that_cannot_be_used_is_refused(bands: list[object]) -> None:
    with pytest.raises(ScaleError):
        bands_check(bands)


def test_the_bands_read_in_words_from_the_lowest() -> None:
    assert band_list(DEFAULT_SCALE) == [
        "up to 100 % of the poverty guideline: nominal fee $20.00",
        "101 to 133 % of the poverty guideline: pays 25 % of the fee",
        "134 to 166 % of the poverty guideline: pays 50 % of the fee",
        "167 to 200 % of the poverty guideline: pays 75 % of the fee",
        "over 200 % of the poverty guideline: full fee",
    ]


@pytest.mark.django_db
def test_a_clinic_sets_its_own_scale_and_bad_bands_are_refused(personas: Personas) -> None:
    out = io.StringIO()
    call_command("sliding-fee", "--clinic", personas.clinic.name, stdout=out)
    assert "2025 HHS poverty guidelines" in out.getvalue()

    call_command(
        "sliding-fee",
        "--clinic",
        personas.clinic.name,
        "--year",
        "2026",
        "--label",
        "2026 guidelines",
        "--first-person",
        "16000",
        "--each-further",
        "5600",
        "--bands",
        '[{"up_to": 150, "nominal": "10.00"}, {"up_to": null, "pays": 100}]',
        stdout=out,
    )

    scale = sliding_fee_scale(personas.clinic.pk)
    assert (scale.year, scale.first_person) == (2026, Decimal("16000.00"))
    got = assess(scale=scale, household_size=2, income=Decimal("32400"), fee=FEE)
    assert got.percent == Decimal("150.0") and got.discounted_fee == Decimal("10.00")
    assert AuditEvent.objects.filter(object_id=f"scale:{personas.clinic.pk}").count() == 1
    with pytest.raises(CommandError, match="open-ended"):
        call_command(
            "sliding-fee",
            "--clinic",
            personas.clinic.name,
            "--year",
            "2026",
            "--label",
            "x",
            "--first-person",
            "16000",
            "--each-further",
            "5600",
            "--bands",
            '[{"up_to": 150, "pays": 10}]',
        )
    assert sliding_fee_scale(personas.clinic.pk).bands[0]["nominal"] == "10.00"
