"""Money as typed at the desk and as shown: Decimal only, never float.

Babel is not installed and the clinic works in one currency, so a small formatter does: two
decimals, thousands separated by commas, the symbol of CLINIC_CURRENCY (or its code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

CENT = Decimal("0.01")
# The ledger's column holds 10 digits with 2 decimals.
MAX_AMOUNT = Decimal("99999999.99")

# ASCII digits only (re's \d would also accept other scripts' digits).
_GROUPED = re.compile(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]{1,2})?")
_PLAIN = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
# "12,50" or "1,2": a comma written where a point for cents was meant.
_DECIMAL_COMMA = re.compile(r"[0-9]+,[0-9]{1,2}")
_TOO_MANY_DECIMALS = re.compile(r"([0-9]{1,3}(,[0-9]{3})*|[0-9]+)\.[0-9]{3,}")

_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


# US English writes "check", the English of the other currencies' countries "cheque"; the
# desk reads the word in its own spelling (USD is the only US-English currency here).
_CHEQUE_WORDS = {"USD": "Check"}


def cheque_word(currency: str | None = None) -> str:
    """The paper payment order, spelled as the clinic's currency's country spells it."""
    return _CHEQUE_WORDS.get((currency or settings.CLINIC_CURRENCY).upper(), "Cheque")


def money_format(amount: Decimal, currency: str | None = None) -> str:
    code = (currency or settings.CLINIC_CURRENCY).upper()
    value = amount.quantize(CENT)
    sign = "-" if value < 0 else ""
    symbol = _SYMBOLS.get(code)
    text = f"{abs(value):,.2f}"
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{code} {text}"


def money_parse(text: str, *, allow_zero: bool = False, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """An amount as typed ("25", "$1,250.50"); ValueError with a plain message otherwise.

    Only plain ASCII digits are read, with commas only as thousands separators and a point for
    cents, so "12,50", "1e5", "1_000" or digits of other scripts are refused instead of misread.
    """
    cleaned = text.strip().replace(" ", "")
    negative = cleaned.startswith("-")
    cleaned = cleaned.removeprefix("-")
    for symbol in {*_SYMBOLS.values(), settings.CLINIC_CURRENCY.upper()}:
        cleaned = cleaned.removeprefix(symbol)
    if not negative and cleaned.startswith("-"):
        negative = True
        cleaned = cleaned.removeprefix("-")
    if not cleaned:
        raise ValueError("Type the amount.")
    if _DECIMAL_COMMA.fullmatch(cleaned):
        raise ValueError("Use a point for cents, like 12.50.")
    if _TOO_MANY_DECIMALS.fullmatch(cleaned):
        raise ValueError("Use at most two decimals (cents).")
    if not (_GROUPED.fullmatch(cleaned) or _PLAIN.fullmatch(cleaned)):
        raise ValueError("Type the amount in numbers, like 25.00.")
    if negative:
        raise ValueError("The amount cannot be negative.")
    value = Decimal(cleaned.replace(",", ""))
    if value > maximum:
        raise ValueError(f"That is too large; the most is {money_format(maximum)}.")
    if value == 0 and not allow_zero:
        raise ValueError("The amount must be more than zero.")
    return value.quantize(CENT)


class MoneyField(forms.CharField):
    """A text box for an amount; keeps what was typed and explains what is wrong."""

    def __init__(
        self,
        *args: Any,
        allow_zero: bool = False,
        maximum: Decimal = MAX_AMOUNT,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(*args, **kwargs)
        self.allow_zero = allow_zero
        self.maximum = maximum

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, Decimal):
            return value
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        if len(text) > 30:
            raise forms.ValidationError("Type the amount in numbers, like 25.00.", code="invalid")
        try:
            return money_parse(text, allow_zero=self.allow_zero, maximum=self.maximum)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None

    def prepare_value(self, value: Any) -> Any:
        return f"{value:.2f}" if isinstance(value, Decimal) else value


# The notes and coins a cash drawer is counted in, largest first, per currency. No library on
# the index lists denominations in circulation (Babel knows symbols and digits only), so the
# table is kept here; a coin the central bank no longer issues (Canada's cent, Australia's
# one- and two-cent coins, New Zealand's five cents) is left out, as tills no longer hold it.
# Each currency: its notes, then its coins.
_DENOMINATIONS: dict[str, tuple[str, str]] = {
    "USD": ("100 50 20 10 5 1", "0.25 0.10 0.05 0.01"),
    "CAD": ("100 50 20 10 5", "2 1 0.25 0.10 0.05"),
    "EUR": ("200 100 50 20 10 5", "2 1 0.50 0.20 0.10 0.05 0.02 0.01"),
    "GBP": ("50 20 10 5", "2 1 0.50 0.20 0.10 0.05 0.02 0.01"),
    "AUD": ("100 50 20 10 5", "2 1 0.50 0.20 0.10 0.05"),
    "NZD": ("100 50 20 10 5", "2 1 0.50 0.20 0.10"),
}


@dataclass(frozen=True)
class Denomination:
    """One note or coin: its value, whether it is a note, and how the desk names it."""

    value: Decimal
    kind: str  # "note" or "coin"
    key: str  # a form field's name: "d100", "d0_25"

    @property
    def label(self) -> str:
        return f"{money_format(self.value)} {self.kind}s"


def denominations(currency: str | None = None) -> tuple[Denomination, ...]:
    """The clinic currency's notes and coins, largest first. A currency not in the table is
    counted in whole units and cents (two "denominations"), so a drawer can still close."""
    code = (currency or settings.CLINIC_CURRENCY).upper()
    if code not in _DENOMINATIONS:
        return (_denomination("1", "unit"), _denomination("0.01", "cent"))
    notes, coins = _DENOMINATIONS[code]
    return tuple(_denomination(value, "note") for value in notes.split()) + tuple(
        _denomination(value, "coin") for value in coins.split()
    )


def _denomination(value: str, kind: str) -> Denomination:
    return Denomination(Decimal(value), kind, "d" + value.replace(".", "_"))
