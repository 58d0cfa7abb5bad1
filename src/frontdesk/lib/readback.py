"""Read-back: critical fields the way an officer reads them aloud to the patient."""

from __future__ import annotations

import datetime as dt

import phonenumbers

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = [
    "_",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]


def _two_digits(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def day_ordinal(day: int) -> str:
    if day <= 20:
        return _ORDINALS[day]
    tens, ones = divmod(day, 10)
    if ones == 0:
        return {30: "thirtieth"}[day]
    return f"{_TENS[tens]}-{_ORDINALS[ones]}"


def year_in_words(year: int) -> str:
    century, rest = divmod(year, 100)
    if 2000 <= year <= 2009:
        return "two thousand" + (f" {_ONES[rest]}" if rest else "")
    if rest == 0:
        return f"{_two_digits(century)} hundred"
    tail = f"oh {_ONES[rest]}" if rest < 10 else _two_digits(rest)
    return f"{_two_digits(century)} {tail}"


def date_in_words(value: dt.date) -> str:
    """2 January 1980 -> 'Wednesday, the second of January, nineteen eighty'."""
    return f"{value:%A}, the {day_ordinal(value.day)} of {value:%B}, {year_in_words(value.year)}"


def spell_out(name: str) -> str:
    """'Smith' -> 'S-M-I-T-H'; spaces and hyphens are said as such."""
    words = []
    for part in name.split(" "):
        letters = []
        for char in part:
            if char == "-":
                letters.append("(hyphen)")
            elif char in "'\u2019":
                letters.append("(apostrophe)")
            else:
                letters.append(char.upper())
        words.append("-".join(letters))
    return "  (space)  ".join(words)


def phone_grouped(e164: str, *, home_region: str = "US") -> str:
    """'+12025550143' -> '202  555  0143'; numbers from abroad are read with their code."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, None)
    at_home = phonenumbers.region_code_for_number(number) == home_region
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if at_home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    text = phonenumbers.format_number(number, style)
    for separator in "()-":
        text = text.replace(separator, " ")
    return "  ".join(text.split())
