"""What inside a family keeps a pair from the existing-patient verdict.

Twins share family name, birth date, address and phone, and a parent and child can share
every name and the address: a pair with a contradiction (different generational suffixes,
a birth year decades off on the same day and month, a clearly different given name, birth
date or recorded sex) stays below `verdict.EXISTING_PATIENT_THRESHOLD`; when it also shares
the household it is a household member (`MatchResult.household_member`), shown as a family
note rather than a warning.
"""

from __future__ import annotations

from typing import Final

from frontdesk.patients.matching.levels import (
    C_DOB,
    C_EMAIL,
    C_FAMILY,
    C_GIVEN,
    C_HOUSE,
    C_PHONE,
    C_SEX,
    C_STREET,
    D_DECADE,
    D_DIFFERENT,
    D_EXACT,
    D_YEARS_APART,
    E_EXACT,
    F_DIFFERENT,
    F_WEAK,
    G_DIFFERENT,
    G_EXACT,
    G_INITIAL,
    G_NICKNAME,
    G_SIMILAR,
    G_TYPO,
    G_WEAK,
    S_DIFFERENT,
    T_CLOSE,
    T_EXACT,
)
from frontdesk.patients.matching.records import PreparedRecord


def shares_household(levels: tuple[int, ...]) -> bool:
    """The same phone or email, or the same street and house number."""
    return (
        levels[C_PHONE] == E_EXACT
        or levels[C_EMAIL] == E_EXACT
        or (levels[C_STREET] in (T_EXACT, T_CLOSE) and levels[C_HOUSE] != S_DIFFERENT)
    )


_SUFFIX_CONFLICT: Final = "different generational suffixes (such as Jr and Sr): a parent and child"
SEX_CONFLICT: Final = "different recorded sex: could be a twin or another family member"
_YEARS_CONFLICT: Final = (
    "born on the same day and month, years apart (more than a typo): could be a parent and child"
)
_GIVEN_CONFLICT: Final = "different given names: could be a twin or another family member"
_DOB_CONFLICT: Final = "different birth dates: could be a parent and child with the same name"
_FAMILY_CONFLICT: Final = "different family names: ask about a change of name"
_DECADE_CONFLICT: Final = (
    "birth years one keystroke but a decade or more apart: a typo, or a parent and child"
)
_ALIKE_CONFLICT: Final = "given names only alike at the same address: could be twins"
# The contradictions that say "another person"; a different family name alone does not (a
# married name), nor does a move.
FAMILY_CONFLICTS: Final = frozenset(
    (_SUFFIX_CONFLICT, SEX_CONFLICT, _YEARS_CONFLICT, _GIVEN_CONFLICT, _DOB_CONFLICT)
)


def pair_contradiction(levels: tuple[int, ...], a: PreparedRecord, b: PreparedRecord) -> str:
    """Why the pair must not reach the existing-patient threshold, or "".

    The independence the model assumes fails inside families: twins share family name,
    birth date, address and phone, and a parent and child can share every name and the
    address. A different generational suffix, a clearly different given name, birth date or
    recorded sex keeps a pair below the existing-patient verdict however much else agrees.
    """
    if a.suffix and b.suffix and a.suffix != b.suffix:
        return _SUFFIX_CONFLICT
    if levels[C_SEX] == S_DIFFERENT:
        return SEX_CONFLICT
    if levels[C_DOB] == D_YEARS_APART:
        return _YEARS_CONFLICT
    if levels[C_GIVEN] in (G_WEAK, G_DIFFERENT):
        return _GIVEN_CONFLICT
    if levels[C_DOB] == D_DIFFERENT:
        return _DOB_CONFLICT
    if levels[C_DOB] == D_DECADE:
        return _DECADE_CONFLICT
    if levels[C_GIVEN] in (G_SIMILAR, G_INITIAL) and shares_household(levels):
        # Michael and Mitchell at one address, born the same day: twins as likely as a typo.
        return _ALIKE_CONFLICT
    if levels[C_FAMILY] in (F_WEAK, F_DIFFERENT):
        if (
            levels[C_GIVEN] in (G_EXACT, G_NICKNAME, G_TYPO)
            and levels[C_DOB] == D_EXACT
            and shares_household(levels)
        ):
            # Given name, birth date and the home's phone, email or street all agree: a
            # change of family name (marriage), not a namesake, who would live elsewhere.
            return ""
        # A married name is possible, but so is a namesake born the same day in the same town.
        return _FAMILY_CONFLICT
    return ""
