"""Each field of a pair of records compared into its agreement level.

Every comparison is symmetric, and names typed the wrong way round are recognised
(`names_transposed`) so both readings can be scored. Level 0 of every comparison is
"missing on one side" and weighs nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from rapidfuzz.distance import OSA, Hamming, JaroWinkler

from frontdesk.patients.matching.records import (
    PersonRecord,
    PreparedRecord,
    name_parts,
    record_prepare,
)

COMPARISONS: Final = (
    "given",
    "family",
    "birth_date",
    "sex",
    "phone",
    "email",
    "middle",
    "house",
    "street",
    "line2",
    "city",
    "postcode",
    "state",
)
(
    C_GIVEN,
    C_FAMILY,
    C_DOB,
    C_SEX,
    C_PHONE,
    C_EMAIL,
    C_MIDDLE,
    C_HOUSE,
    C_STREET,
    C_LINE2,
    C_CITY,
    C_POSTCODE,
    C_STATE,
) = range(len(COMPARISONS))

# given name
G_EXACT, G_NICKNAME, G_TYPO, G_SIMILAR, G_INITIAL, G_WEAK, G_DIFFERENT = range(1, 8)
# family name
F_EXACT, F_PART, F_TYPO, F_SIMILAR, F_WEAK, F_DIFFERENT = range(1, 7)
# birth date
D_EXACT, D_SWAPPED, D_ONE_DIGIT, D_TWO_DIGITS, D_DIFFERENT = range(1, 6)
# Same day and month, years apart by more than a typo. Weighed as D_DIFFERENT (it is a
# different date), told apart for the reason it gives: a parent and child, a Jr and Sr.
D_YEARS_APART: Final = 6
# Same day and month, the year one keystroke away but ten or more years off: weighed as a
# one-digit typo, never taken for the same person without a check.
D_DECADE: Final = 7
# text fields: street, address line 2, city
T_EXACT, T_CLOSE, T_SIMILAR, T_DIFFERENT = range(1, 5)
# fields compared as equal / one typo / different: phone, email, postcode
E_EXACT, E_TYPO, E_DIFFERENT = range(1, 4)
# fields compared as equal / different: sex, house number, state, middle name (initial)
S_SAME, S_DIFFERENT = 1, 2


def _typo_close(a: str, b: str) -> bool:
    """One edit or one adjacent transposition apart, for words long enough for it to mean it."""
    return min(len(a), len(b)) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1


def _given_level(a: PreparedRecord, b: PreparedRecord) -> int:
    if not a.given or not b.given:
        return 0
    if a.given == b.given or a.given_first == b.given_first:
        return G_EXACT
    if a.given_forms & b.given_forms or goes_by_middle_name(a, b):
        return G_NICKNAME
    jw = JaroWinkler.similarity(a.given, b.given)
    if jw >= 0.92 or _typo_close(a.given, b.given):
        return G_TYPO
    if (
        jw >= 0.85
        or a.given_phonetic == b.given_phonetic
        or a.given_words & b.given_words
        or _same_spelling(a, b)
        or _short_typo(a.given, b.given)
    ):
        return G_SIMILAR
    if (len(a.given_first) == 1 or len(b.given_first) == 1) and a.given[0] == b.given[0]:
        return G_INITIAL
    return G_WEAK if jw >= 0.7 else G_DIFFERENT


def _short_typo(a: str, b: str) -> bool:
    """One edit between short names (Jn, Jun; Yan, Ysn): alike, though too short to be sure
    it is a typo rather than another name."""
    return max(len(a), len(b)) >= 2 and OSA.distance(a, b, score_cutoff=1) <= 1


def _same_spelling(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Two spellings of one sound (Mohammed, Muhammad; Yusuf, Youssef): see `spelling_key`."""
    return len(a.given_spelling) >= 3 and a.given_spelling == b.given_spelling


def goes_by_middle_name(a: PreparedRecord, b: PreparedRecord) -> bool:
    """John Robert Smith registered again as Robert Smith."""
    return (len(a.middle) > 1 and a.middle == b.given_first) or (
        len(b.middle) > 1 and b.middle == a.given_first
    )


def _family_level(a: PreparedRecord, b: PreparedRecord) -> int:
    if not a.family or not b.family:
        return 0
    if a.family == b.family:
        return F_EXACT
    if a.family_words < b.family_words or b.family_words < a.family_words:
        return F_PART  # one part of a double-barrelled name: Okoye for Fitzgerald-Okoye
    jw = JaroWinkler.similarity(a.family, b.family)
    if jw >= 0.92 or _typo_close(a.family, b.family) or a.family_forms & b.family_forms:
        return F_TYPO
    if jw >= 0.85 or a.family_phonetic == b.family_phonetic:
        return F_SIMILAR
    return F_WEAK if jw >= 0.7 else F_DIFFERENT


def names_transposed(a: PreparedRecord, b: PreparedRecord) -> bool:
    if not (a.given and a.family and b.given and b.family):
        return False
    straight = JaroWinkler.similarity(a.given, b.given) + JaroWinkler.similarity(a.family, b.family)
    crossed = JaroWinkler.similarity(a.given, b.family) + JaroWinkler.similarity(a.family, b.given)
    return crossed > straight + 0.3


def names_exchanged(p: PreparedRecord) -> PreparedRecord:
    """The record with given and family names exchanged, every word kept."""
    return dataclasses.replace(p, **name_parts(p.family_order, p.given_order))  # type: ignore[arg-type]


def _dob_level(a: str, b: str) -> int:
    if not a or not b:
        return 0
    if a == b:
        return D_EXACT
    if a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
        return D_SWAPPED
    if a[4:] == b[4:]:
        # Same day and month: a typo touches one digit of the year or swaps two neighbours
        # (1984, 1948); anything more is another person born on the same day (a Jr and Sr).
        if OSA.distance(a[:4], b[:4], score_cutoff=1) > 1:
            return D_YEARS_APART
        # One digit changed, but ten or more years: as likely a parent and child (1960,
        # 1990). Two neighbouring digits swapped (1972, 1927) is the commoner slip.
        if Hamming.distance(a[:4], b[:4]) == 1 and abs(int(a[:4]) - int(b[:4])) >= 10:
            return D_DECADE
        return D_ONE_DIGIT
    differing = Hamming.distance(a, b)
    if differing == 1 or OSA.distance(a, b, score_cutoff=1) == 1:
        return D_ONE_DIGIT
    if differing == 2:
        return D_TWO_DIGITS
    return D_DIFFERENT


def _text_level(a: str, b: str) -> int:
    if not a or not b:
        return 0
    if a == b:
        return T_EXACT
    jw = JaroWinkler.similarity(a, b)
    if jw >= 0.92 or _typo_close(a, b):
        return T_CLOSE
    return T_SIMILAR if jw >= 0.8 else T_DIFFERENT


def _address_text_levels(a: PreparedRecord, b: PreparedRecord) -> tuple[int, int]:
    """Street and line-2 levels, forgiving a record that wrote the two lines the other way."""
    street = _text_level(a.street, b.street)
    line2 = _text_level(a.line2, b.line2)
    if street in (T_EXACT, T_CLOSE) or line2 in (T_EXACT, T_CLOSE):
        return street, line2
    crossed = sorted((_text_level(a.street, b.line2), _text_level(a.line2, b.street)))
    if crossed[0] in (T_EXACT, T_CLOSE):
        # Sorted, so the pair gets the same levels whichever record comes first.
        return crossed[0], crossed[1]
    return street, line2


def _edit_level(a: str, b: str, *, typo_min_length: int = 4) -> int:
    if not a or not b:
        return 0
    if a == b:
        return E_EXACT
    if min(len(a), len(b)) >= typo_min_length and OSA.distance(a, b, score_cutoff=1) <= 1:
        return E_TYPO
    return E_DIFFERENT


def _same_level(a: str, b: str) -> int:
    if not a or not b:
        return 0
    return S_SAME if a == b else S_DIFFERENT


def _phone_level(a: str, b: str) -> int:
    """Compare the digits both numbers have, so 555 0102 meets +1 415 555 0102."""
    n = min(len(a), len(b))
    if n < 7:
        return 0
    return _edit_level(a[-n:], b[-n:], typo_min_length=7)


def _middle_level(a: str, b: str) -> int:
    if not a or not b:
        return 0
    return S_SAME if a.startswith(b) or b.startswith(a) else S_DIFFERENT


def _house_level(a: frozenset[str], b: frozenset[str]) -> int:
    if not a or not b:
        return 0
    return S_SAME if a & b else S_DIFFERENT


def pair_levels(a: PreparedRecord, b: PreparedRecord) -> tuple[int, ...]:
    street, line2 = _address_text_levels(a, b)
    return (
        _given_level(a, b),
        _family_level(a, b),
        _dob_level(a.dob, b.dob),
        _same_level(a.sex, b.sex),
        _phone_level(a.phone, b.phone),
        _edit_level(a.email, b.email, typo_min_length=6),
        _middle_level(a.middle, b.middle),
        _house_level(a.house, b.house),
        street,
        line2,
        _text_level(a.city, b.city),
        _edit_level(a.postcode, b.postcode, typo_min_length=3),
        _same_level(a.state, b.state),
    )


def comparison_levels(a: PersonRecord, b: PersonRecord) -> tuple[tuple[int, ...], bool]:
    """The agreement level of each of `COMPARISONS` (as the model's tables count them), and
    whether the names were transposed."""
    pa, pb = record_prepare(a), record_prepare(b)
    transposed = names_transposed(pa, pb)
    levels = pair_levels(pa, names_exchanged(pb)) if transposed else pair_levels(pa, pb)
    if levels[C_DOB] in (D_YEARS_APART, D_DECADE):
        tabled = D_DIFFERENT if levels[C_DOB] == D_YEARS_APART else D_ONE_DIGIT
        levels = (*levels[:C_DOB], tabled, *levels[C_DOB + 1 :])
    return levels, transposed
