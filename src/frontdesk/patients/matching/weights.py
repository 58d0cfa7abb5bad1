"""The weight of each agreement level, term frequencies, and the household rules.

Where the weights come from (see `_LEVEL_PROBABILITIES`): the m and u of the fields that
FEBRL carries were estimated without labels (u from random pairs, m by expectation
maximisation over blocked pairs) by `bench/matching_febrl.py --estimate`; the fields FEBRL
lacks (sex, phone, email, middle name) were set by judgement and say so.

Term frequencies (`ValueFrequencies`, counted in the clinic's own index at check time):
agreeing on a common given or family name, birth date or postal code weighs less, as in
Splink's term-frequency adjustment.

Rules sit on top of the sum, where the independence the model assumes fails:
- a city, postal code or state that agrees adds nothing once the street agrees, and a city
  or state once the postal code agrees (each is implied by the other);
- everything a household shares (address, phone, email) together proves at most "same
  household", about 15.7 bits (see `_HOUSEHOLD_CAP`), so a flatmate is not a duplicate;
- a move is one event: for the same person, the address's disagreements together cost at
  most `_MOVED_FLOOR`; but with no phone, email or street in common a pair is only a
  warning, since a namesake born the same day in the same town looks exactly the same.
"""

from __future__ import annotations

import math
from typing import Final

from frontdesk.patients.matching.levels import (
    C_CITY,
    C_DOB,
    C_EMAIL,
    C_FAMILY,
    C_GIVEN,
    C_HOUSE,
    C_LINE2,
    C_PHONE,
    C_POSTCODE,
    C_SEX,
    C_STATE,
    C_STREET,
    D_DECADE,
    D_DIFFERENT,
    D_EXACT,
    D_ONE_DIGIT,
    D_SWAPPED,
    E_DIFFERENT,
    E_EXACT,
    E_TYPO,
    F_EXACT,
    F_PART,
    F_SIMILAR,
    F_TYPO,
    G_EXACT,
    G_NICKNAME,
    G_TYPO,
    S_DIFFERENT,
    S_SAME,
    T_CLOSE,
    T_DIFFERENT,
    T_EXACT,
    T_SIMILAR,
)
from frontdesk.patients.matching.records import PreparedRecord, ValueFrequencies

# (m, u) per level, level 0 (missing) excluded, in the order of `levels`' constants.
# FEBRL: estimated without labels on FEBRL3 and FEBRL4 by `bench/matching_febrl.py --estimate`
# (u from 800,000 random pairs, which are nearly all different people; m by expectation
# maximisation over the 23,145 pairs the blocking keys produce, u held fixed). The labels
# were never used. FEBRL's corruptions are typos, OCR slips, swapped and replaced values, so
# it cannot show a nickname, an initial or a day/month swap: those m are judgement ("J:"),
# as are the fields FEBRL lacks. Each row is normalised to sum to 1 below.
_LEVEL_PROBABILITIES: Final[tuple[tuple[tuple[float, float], ...], ...]] = (
    # given: exact, nickname, typo, similar, initial, weak, different
    (
        (0.6979, 0.003716),
        (0.03, 0.001197),  # J: m, a registration under a short form (Bob, Liz)
        (0.1638, 0.001771),
        (0.007828, 0.002371),
        (0.02, 0.0015),  # J: one record holds only an initial, 2% of duplicates; 7% x 2%
        (0.006212, 0.02718),
        (0.1238, 0.9638),
    ),
    # family: exact, part of a double-barrelled name, typo, similar, weak, different
    (
        (0.6784, 0.00374),
        (0.01, 0.0005),  # J: a double-barrelled name registered in part; 5% x 1%
        (0.2179, 0.001339),
        (0.01067, 0.001079),
        (0.003693, 0.01896),
        (0.08921, 0.9749),
    ),
    # birth date: exact, day and month swapped, one digit, two digits, different
    (
        (0.9197, 0.0003293),
        (0.01, 1.549e-05),  # J: m, a date typed in the other order (US and European forms)
        (0.0113, 0.0009501),
        (0.001499, 0.01295),
        (0.06743, 0.9858),
    ),
    # J sex: same / different. Nearly every duplicate agrees; half of all strangers do.
    ((0.98, 0.5), (0.02, 0.5)),
    # J phone: same / one digit / different. People change numbers; households share one.
    ((0.7, 0.001), (0.03, 0.0001), (0.27, 0.9989)),
    # J email: same / one character / different. Like the phone, more rarely shared.
    ((0.7, 0.0005), (0.03, 0.0001), (0.27, 0.9994)),
    # J middle name: same or initial-compatible / different.
    ((0.95, 0.1), (0.05, 0.9)),
    # house number: shared / different
    ((0.8394, 0.01583), (0.1606, 0.9842)),
    # street: exact, close, similar, different
    ((0.6264, 0.0005335), (0.2766, 0.0002711), (0.05532, 0.002273), (0.04162, 0.9969)),
    # address line 2: exact, close, similar, different
    ((0.6889, 0.0008812), (0.2735, 0.0003936), (0.01549, 0.001748), (0.02205, 0.997)),
    # city: exact, close, similar, different
    ((0.7192, 0.001141), (0.1943, 0.0004609), (0.004709, 0.002383), (0.08176, 0.996)),
    # postal code: exact, one typo, different
    ((0.7917, 0.00121), (0.1778, 0.01274), (0.03058, 0.986)),
    # state: same / different
    ((0.9463, 0.2191), (0.05368, 0.7809)),
)


def _normalised(levels: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    m_total = sum(m for m, _ in levels)
    u_total = sum(u for _, u in levels)
    return ((0.0, 1.0), *((m / m_total, u / u_total) for m, u in levels))


_MU: Final = tuple(_normalised(levels) for levels in _LEVEL_PROBABILITIES)
# Level 0 weighs nothing; D_YEARS_APART weighs as D_DIFFERENT (it is a different date).
WEIGHTS: Final = tuple(
    (0.0, *(math.log2(m / u) for m, u in mu[1:]))
    + (
        (
            math.log2(mu[D_DIFFERENT][0] / mu[D_DIFFERENT][1]),
            math.log2(mu[D_ONE_DIGIT][0] / mu[D_ONE_DIGIT][1]),
        )
        if i == C_DOB
        else ()
    )
    for i, mu in enumerate(_MU)
)

# Term frequency (Splink's "term frequency adjustment"; Winkler's frequency-based matching):
# agreeing on a value a tenth of the clinic holds (a common given name, the clinic's own
# postal code, the 1 January that stands for an unknown birthday) proves less than agreeing
# on a rare one. For an exact agreement u becomes the value's share of the index, smoothed
# towards the model's u by a pseudo-count so that a small index (a new clinic, a test) keeps
# the average weights. The weight may fall far but rise only a little: a rare value must
# not by itself carry a pair to the existing-patient verdict.
_TF_PSEUDO_COUNT: Final = 2000
_TF_MAX_GAIN: Final = 2.0
_TF_MAX_LOSS: Final = 12.0
_TF_FIELDS: Final = (
    (C_GIVEN, G_EXACT),
    (C_FAMILY, F_EXACT),
    (C_DOB, D_EXACT),
    (C_POSTCODE, E_EXACT),
)


def _tf_weight(comparison: int, level: int, count: int, size: int) -> float:
    m, u_average = _MU[comparison][level]
    u = (count + _TF_PSEUDO_COUNT * u_average) / (max(size, 0) + _TF_PSEUDO_COUNT)
    average = WEIGHTS[comparison][level]
    return min(max(math.log2(m / u), average - _TF_MAX_LOSS), average + _TF_MAX_GAIN)


def _tf_value(
    comparison: int, a: PreparedRecord, b: PreparedRecord, freq: ValueFrequencies
) -> int | None:
    """The count of the value both records hold, when the frequencies know it."""
    if comparison == C_GIVEN:
        return freq.given.get(a.given) if a.given == b.given else None
    if comparison == C_FAMILY:
        return freq.family.get(a.family)
    if comparison == C_DOB:
        return freq.birth_date.get(a.dob)
    return freq.postcode.get(a.postcode)


# What a household shares (address, phone, email) proves at most that the two records are
# of one household, however many of its fields agree: log2(m / u) with m = 0.8 (the
# duplicate still has the address) and u = (patients per household - 1) / patients in the
# index = 1.5 / 100,000, a large clinic's index. About 15.7 bits. FEBRL's addresses are
# random and independent, a household's are not: without this bound, a flatmate with other
# names and birth date would score as a likely duplicate.
_INDEX_SIZE: Final = 100_000
_PATIENTS_PER_HOUSEHOLD: Final = 2.5
_HOUSEHOLD_CAP: Final = math.log2(0.8 * _INDEX_SIZE / (_PATIENTS_PER_HOUSEHOLD - 1))
_HOUSEHOLD: Final = (C_PHONE, C_EMAIL, C_HOUSE, C_STREET, C_LINE2, C_CITY, C_POSTCODE, C_STATE)
_ADDRESS: Final = (C_HOUSE, C_STREET, C_LINE2, C_CITY, C_POSTCODE, C_STATE)

# Symmetrically, a person whose own contact details (phone, email, street) all differ or
# are missing proves at most "lives elsewhere now": about one returning patient in ten has
# moved and changed number since the last visit (m = 0.1 against u close to 1), so the
# household counts log2(0.1), about -3.3 bits, whatever a shared town would add. It applies
# when given name, birth date and sex agree (the family name may have changed on marriage),
# and such a pair is held at a warning: a namesake born the same day in the same town looks
# exactly the same, and only the patient can say whether they moved.
_MOVED_FLOOR: Final = math.log2(0.1)


def evidence_sum(
    levels: tuple[int, ...], a: PreparedRecord, b: PreparedRecord, freq: ValueFrequencies | None
) -> tuple[float, bool, tuple[str, ...]]:
    """The sum of the weights under the household rules: (score, moved, common values)."""
    weights = [WEIGHTS[i][level] for i, level in enumerate(levels)]
    common: list[str] = []
    if freq is not None:
        for comparison, level in _TF_FIELDS:
            count = _tf_value(comparison, a, b, freq) if levels[comparison] == level else None
            if count is not None:
                weight = _tf_weight(comparison, level, count, freq.index_size)
                if weight <= weights[comparison] - 2.0:
                    common.append(_COMMON_WORDS[comparison])
                weights[comparison] = weight
    if levels[C_STREET] in (T_EXACT, T_CLOSE):
        # The street already places the pair: an agreeing city, postal code or state is
        # implied by it and proves nothing more, though a disagreeing one still counts.
        for c in (C_CITY, C_POSTCODE, C_STATE):
            weights[c] = min(weights[c], 0.0)
    elif levels[C_POSTCODE] == E_EXACT:
        # Likewise the postal code places the town and state: their agreeing adds nothing.
        weights[C_CITY] = min(weights[C_CITY], 0.0)
        weights[C_STATE] = min(weights[C_STATE], 0.0)
    if _person_agrees(levels, a, freq):
        # A move changes house, street, town and postal code at once: one event, about one
        # returning patient in ten, not four independent disagreements.
        address = sum(weights[c] for c in _ADDRESS)
        if address < _MOVED_FLOOR:
            for c in _ADDRESS:
                weights[c] *= _MOVED_FLOOR / address
    household = min(sum(weights[c] for c in _HOUSEHOLD), _HOUSEHOLD_CAP)
    moved = _person_agrees(levels, a, freq) and _lives_elsewhere(levels)
    if moved:
        household = max(household, _MOVED_FLOOR)
    score = sum(weights) - sum(weights[c] for c in _HOUSEHOLD) + household
    return score, moved, tuple(common)


_COMMON_WORDS: Final = {
    C_GIVEN: "a common given name here",
    C_FAMILY: "a common family name here",
    C_DOB: "a birth date many patients here share",
    C_POSTCODE: "the postal code of many patients here",
}


def _person_agrees(
    levels: tuple[int, ...], a: PreparedRecord, freq: ValueFrequencies | None = None
) -> bool:
    """Given name, birth date and recorded sex agree (allowing nicknames, typos, swaps), and
    the family name too, or both are women: most women in the US take a married name and
    few men do, so for them a different family name is as likely a marriage as another
    person. Not when the clinic's own counts say strangers agreeing so far are to be
    expected (a common name and birth date in a large index, `_NAMESAKES_EXPECTED`)."""
    if not (
        levels[C_GIVEN] in (G_EXACT, G_NICKNAME, G_TYPO)
        and levels[C_DOB] in (D_EXACT, D_SWAPPED, D_ONE_DIGIT, D_DECADE)
        and levels[C_SEX] != S_DIFFERENT
    ):
        return False
    family_agrees = levels[C_FAMILY] in (F_EXACT, F_PART, F_TYPO, F_SIMILAR)
    if not family_agrees and not (levels[C_SEX] == S_SAME and a.sex == "f"):
        return False
    return _namesakes_expected(levels, a, freq, family_agrees=family_agrees) < _NAMESAKES_EXPECTED


# A pair whose agreement this many strangers in the index would show by chance is not given
# the benefit of a move or a marriage.
_NAMESAKES_EXPECTED: Final = 0.05
# About twenty dates are one keystroke from a birth date; a lifetime has some 30,000.
_ONE_KEYSTROKE_DATES: Final = 20 / 30_000


def _namesakes_expected(
    levels: tuple[int, ...],
    a: PreparedRecord,
    freq: ValueFrequencies | None,
    *,
    family_agrees: bool,
) -> float:
    """How many records of the index would agree this far by chance (0 without counts):
    the given name's count, times the family name's share when it agrees, times the share
    of records on that birth date (or one keystroke from it)."""
    if freq is None or freq.index_size <= 0:
        return 0.0
    # Shares smoothed as the term frequencies are: a small index expects no namesakes.
    size = freq.index_size + _TF_PSEUDO_COUNT
    expected = float(freq.given.get(a.given, 0))
    if family_agrees:
        expected *= freq.family.get(a.family, 0) / size
    if levels[C_DOB] in (D_EXACT, D_SWAPPED):
        expected *= freq.birth_date.get(a.dob, 0) / size
    else:
        expected *= _ONE_KEYSTROKE_DATES
    return expected


def _contact_agrees(levels: tuple[int, ...]) -> bool:
    """A contact detail of the person's own agrees: phone, email or street address (a town
    or postal code is shared with thousands)."""
    return (
        levels[C_PHONE] in (E_EXACT, E_TYPO)
        # An email one character off is not counted: addresses made of the name
        # (maria.garcia12, maria.garcia21) are alike for namesakes too.
        or levels[C_EMAIL] == E_EXACT
        or (levels[C_STREET] in (T_EXACT, T_CLOSE) and levels[C_HOUSE] != S_DIFFERENT)
        or (levels[C_LINE2] in (T_EXACT, T_CLOSE) and levels[C_HOUSE] != S_DIFFERENT)
    )


def _lives_elsewhere(levels: tuple[int, ...]) -> bool:
    """No contact detail of the person's own agrees, and one differs."""
    if _contact_agrees(levels):
        return False
    return (
        levels[C_PHONE] == E_DIFFERENT
        or levels[C_EMAIL] == E_DIFFERENT
        or levels[C_STREET] in (T_SIMILAR, T_DIFFERENT)
        or levels[C_HOUSE] == S_DIFFERENT
    )
