"""The evidence of a pair in the officer's words."""

from __future__ import annotations

from typing import Final

from frontdesk.patients.matching.levels import (
    C_FAMILY,
    C_GIVEN,
    F_DIFFERENT,
    F_EXACT,
    F_PART,
    F_SIMILAR,
    F_TYPO,
    F_WEAK,
    G_DIFFERENT,
    G_EXACT,
    G_INITIAL,
    G_NICKNAME,
    G_SIMILAR,
    G_TYPO,
    G_WEAK,
    goes_by_middle_name,
)
from frontdesk.patients.matching.records import PersonRecord, PreparedRecord


def reasons_in_words(
    a: PersonRecord,
    b: PersonRecord,
    pa: PreparedRecord,
    pb: PreparedRecord,
    levels: tuple[int, ...],
    *,
    transposed: bool,
) -> tuple[str, ...]:
    b_given, b_family = (
        (b.family_name, b.given_name) if transposed else (b.given_name, b.family_name)
    )
    out: list[str] = []
    if transposed:
        out.append("given and family names transposed")
    given = levels[C_GIVEN]
    if given == G_EXACT:
        out.append("same given name")
    elif given == G_NICKNAME and not transposed and goes_by_middle_name(pa, pb):
        middle = (
            a.middle_name if len(pa.middle) > 1 and pa.middle == pb.given_first else b.middle_name
        )
        out.append(f"goes by the middle name {middle.strip()}")
    elif given == G_NICKNAME:
        out.append(f"nickname {_short(a.given_name, b_given)} = {_long(a.given_name, b_given)}")
    elif given in (G_TYPO, G_SIMILAR):
        out.append(f"given names alike ({a.given_name.strip()} ~ {b_given.strip()})")
    elif given == G_INITIAL:
        out.append("given name matches an initial")
    elif given in (G_WEAK, G_DIFFERENT):
        out.append("different given names")
    family = levels[C_FAMILY]
    if family == F_EXACT:
        out.append("same family name")
    elif family == F_TYPO:
        out.append(f"family names differ by a typo ({a.family_name.strip()} ~ {b_family.strip()})")
    elif family == F_PART:
        out.append("family names share a part")
    elif family == F_SIMILAR:
        out.append(f"family names sound alike ({a.family_name.strip()} ~ {b_family.strip()})")
    elif family in (F_WEAK, F_DIFFERENT):
        out.append("different family names")
    out.extend(_TEXT_REASONS[i][level] for i, level in enumerate(levels) if _TEXT_REASONS[i][level])
    return tuple(out)


def _short(x: str, y: str) -> str:
    return (x if len(x.strip()) <= len(y.strip()) else y).strip()


def _long(x: str, y: str) -> str:
    return (y if len(x.strip()) <= len(y.strip()) else x).strip()


# Reasons that need no names; "" for levels not worth a line (and the name comparisons).
_TEXT_REASONS: Final[tuple[tuple[str, ...], ...]] = (
    ("",) * 8,
    ("",) * 7,
    (
        "",
        "same birth date",
        "same birth date with day and month swapped",
        "birth dates one digit apart",
        "birth dates two digits apart",
        "different birth dates",
        "different birth years",
        "birth years one digit but a decade or more apart",
    ),
    ("", "same sex", "different recorded sex"),
    ("", "same phone", "phone one digit apart", "different phone"),
    ("", "same email", "email one character apart", "different email"),
    ("", "middle names agree", "different middle names"),
    ("", "same house number", "different house number"),
    ("", "same street", "street one typo apart", "similar street", "different street"),
    ("", "same address line 2", "address line 2 alike", "", ""),
    ("", "same city", "city one typo apart", "similar city", "different city"),
    ("", "same postal code", "postal code one typo apart", "different postal code"),
    ("", "same state", "different state"),
)
