"""The notes and coins a drawer is counted in: largest first, each once, and a count of them adds
up exactly in Decimal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.billing.drawer import Count
from frontdesk.lib.money import _DENOMINATIONS, denominations


@pytest.mark.parametrize("currency", sorted(_DENOMINATIONS))
def test_each_currency_lists_its_notes_and_coins_largest_first_each_once(currency: str) -> None:
    listed = denominations(currency)
    values = [d.value for d in listed]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)
    assert len({d.key for d in listed}) == len(listed)
    assert all(isinstance(d.value, Decimal) and d.value > 0 for d in listed)


def test_the_desk_reads_each_denomination_in_words(settings: Any) -> None:
    settings.CLINIC_CURRENCY = "USD"
    labels = [d.label for d in denominations()]
    assert labels[0] == "$100.00 notes" and labels[-1] == "$0.01 coins"
    settings.CLINIC_CURRENCY = "GBP"
    assert denominations()[0].label == "£50.00 notes"


def test_a_currency_not_in_the_table_is_counted_in_units_and_cents() -> None:
    assert [d.value for d in denominations("CHF")] == [Decimal("1"), Decimal("0.01")]


@given(
    st.dictionaries(st.sampled_from([d.key for d in denominations("USD")]), st.integers(0, 5000))
)
def test_a_count_adds_up_exactly_whatever_the_mix(counts: dict[str, int]) -> None:
    by_key = {d.key: d.value for d in denominations("USD")}
    cents = sum(int(by_key[k] * 100) * n for k, n in counts.items())
    total = Count(counts).total
    assert isinstance(total, Decimal) and total == Decimal(cents) / 100
