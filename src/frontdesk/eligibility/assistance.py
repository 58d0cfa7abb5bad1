"""The sliding-fee scale of financial assistance (pure: no database).

A household's income is measured against the federal poverty guideline for its size (the
guideline for one person, plus an amount for each further person), as a percentage; the first
band whose `up_to` is at or above it says what the patient pays: a nominal fee, or a share of
the clinic's fee. A band with `up_to` None is everything above the others (the full fee).

The default scale uses the HHS poverty guidelines for 2025, for the 48 contiguous states and the
District of Columbia ($15,650 for one person, $5,500 for each further person; 90 FR 5917,
January 17, 2025). They are labelled as 2025 wherever they appear: a clinic sets the current
year's figures and its own bands (`sliding-fee` command) once HHS publishes them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
HOUSEHOLD_MAX = 20


@dataclass(frozen=True)
class Scale:
    year: int
    label: str
    first_person: Decimal
    each_further_person: Decimal
    bands: tuple[dict[str, Any], ...]


DEFAULT_BANDS: tuple[dict[str, Any], ...] = (
    {"up_to": 100, "nominal": "20.00"},
    {"up_to": 133, "pays": 25},
    {"up_to": 166, "pays": 50},
    {"up_to": 200, "pays": 75},
    {"up_to": None, "pays": 100},
)

DEFAULT_SCALE = Scale(
    year=2025,
    label="2025 HHS poverty guidelines, 48 contiguous states and DC",
    first_person=Decimal("15650.00"),
    each_further_person=Decimal("5500.00"),
    bands=DEFAULT_BANDS,
)


class ScaleError(ValueError):
    """The bands cannot be used; the message says why."""


def bands_check(bands: Any) -> tuple[dict[str, Any], ...]:
    """Bands as stored, checked: rising limits, the last one open, each a nominal fee or a
    share between 0 and 100 %."""
    if not isinstance(bands, list | tuple) or not bands:
        raise ScaleError("A sliding-fee scale needs at least one band.")
    last = Decimal(-1)
    for index, band in enumerate(bands):
        if not isinstance(band, dict):
            raise ScaleError(f"Band {index + 1} is not a band.")
        up_to = band.get("up_to")
        if (up_to is None) != (index == len(bands) - 1):
            raise ScaleError("Only the last band is open-ended (no upper limit), and it must be.")
        if up_to is not None:
            if not isinstance(up_to, int) or up_to <= last:
                raise ScaleError("Band limits are whole percentages, each above the one before.")
            last = Decimal(up_to)
        if ("nominal" in band) == ("pays" in band):
            raise ScaleError(f"Band {index + 1} needs either a nominal fee or a share to pay.")
        if "nominal" in band:
            try:
                nominal = Decimal(str(band["nominal"]))
            except InvalidOperation:
                raise ScaleError(f"Band {index + 1}'s nominal fee is not an amount.") from None
            if not nominal.is_finite() or nominal < 0:
                raise ScaleError(f"Band {index + 1}'s nominal fee is not an amount.")
        elif not isinstance(band["pays"], int) or not 0 <= band["pays"] <= 100:
            raise ScaleError(f"Band {index + 1}'s share is a whole percentage from 0 to 100.")
    return tuple(bands)


def band_words(band: dict[str, Any], *, low: int | None) -> str:
    """A band in words: "up to 100 % of the poverty guideline: nominal fee $20.00"."""
    up_to = band.get("up_to")
    if up_to is None:
        span = f"over {low} %" if low is not None else "any income"
    elif low is None:
        span = f"up to {up_to} %"
    else:
        span = f"{low + 1} to {up_to} %"
    if "nominal" in band:
        what = f"nominal fee ${Decimal(str(band['nominal'])):.2f}"
    elif band["pays"] == 100:
        what = "full fee"
    else:
        what = f"pays {band['pays']} % of the fee"
    return f"{span} of the poverty guideline: {what}"


def band_list(scale: Scale) -> list[str]:
    """Every band of the scale in words, lowest first."""
    words, low = [], None
    for band in scale.bands:
        words.append(band_words(band, low=low))
        low = band.get("up_to")
    return words


@dataclass(frozen=True)
class Assessment:
    guideline: Decimal  # the poverty guideline for the household
    percent: Decimal  # income as a percentage of it, to one decimal
    band: str  # in words
    fee: Decimal
    discounted_fee: Decimal

    @property
    def discount(self) -> Decimal:
        return self.fee - self.discounted_fee


def assess(*, scale: Scale, household_size: int, income: Decimal, fee: Decimal) -> Assessment:
    """The band of a household's yearly income and the fee it makes, in Decimal."""
    if not 1 <= household_size <= HOUSEHOLD_MAX:
        raise ScaleError(f"The household is 1 to {HOUSEHOLD_MAX} people.")
    if income < 0:
        raise ScaleError("The income cannot be negative.")
    guideline = scale.first_person + scale.each_further_person * (household_size - 1)
    exact = income * HUNDRED / guideline
    low: int | None = None
    for band in scale.bands:
        up_to = band.get("up_to")
        if up_to is None or exact <= up_to:
            if "nominal" in band:
                discounted = min(Decimal(str(band["nominal"])), fee)
            else:
                discounted = fee * Decimal(band["pays"]) / HUNDRED
            return Assessment(
                guideline=guideline,
                percent=exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
                band=band_words(band, low=low),
                fee=fee,
                discounted_fee=discounted.quantize(CENT, rounding=ROUND_HALF_UP),
            )
        low = up_to
    raise ScaleError("The scale has no band for this income.")  # bands_check forbids it
