"""The verdict on a pair: `match_score`, the thresholds it is read against, `MatchResult`.

`match_score(a, b) == match_score(b, a)`: names typed the wrong way round are read both ways
and the better reading kept, and every comparison is symmetric
(`test_matching_contradictions.py` proves it over generated records).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from frontdesk.patients.matching.contradictions import (
    FAMILY_CONFLICTS,
    SEX_CONFLICT,
    pair_contradiction,
    shares_household,
)
from frontdesk.patients.matching.levels import (
    C_FAMILY,
    C_GIVEN,
    F_DIFFERENT,
    F_WEAK,
    G_DIFFERENT,
    G_EXACT,
    G_NICKNAME,
    G_WEAK,
    names_exchanged,
    names_transposed,
    pair_levels,
)
from frontdesk.patients.matching.reasons import reasons_in_words
from frontdesk.patients.matching.records import PersonRecord, ValueFrequencies, record_prepare
from frontdesk.patients.matching.weights import evidence_sum

# Taking the better of two name orientations doubles the chance a stranger agrees.
_TRANSPOSED_PENALTY: Final = 1.0

#: Prior that one candidate from the blocking keys is the same person, for `probability`:
#: a few percent of registrations are duplicates, among some tens of candidates each.
PRIOR_MATCH_PROBABILITY: Final = 1 / 1000
_PRIOR_LOG2_ODDS: Final = math.log2(PRIOR_MATCH_PROBABILITY / (1 - PRIOR_MATCH_PROBABILITY))

#: At or above: the officer must confirm this is the existing patient or override with a
#: reason. Posterior probability 0.999 under the prior above.
EXISTING_PATIENT_THRESHOLD: Final = math.log2(999) - _PRIOR_LOG2_ODDS
#: At or above (and below the existing-patient threshold): a warning. Posterior 0.5.
WARNING_THRESHOLD: Final = -_PRIOR_LOG2_ODDS
# A pair with a flat contradiction (see `match_score`) is squeezed into the band between
# this and the existing-patient threshold, keeping its rank among the other candidates.
_CONFLICT_CAP: Final = EXISTING_PATIENT_THRESHOLD - 1.0


def _probability(score: float) -> float:
    log_odds = score + _PRIOR_LOG2_ODDS
    if log_odds > 60:
        return 1.0
    return 1.0 - 1.0 / (1.0 + math.exp2(log_odds))


@dataclass(frozen=True)
class MatchResult:
    score: float  # log2 Bayes factor in bits; higher = more likely the same person
    probability: float  # 0..1, under the prior `PRIOR_MATCH_PROBABILITY`
    reasons: tuple[str, ...]
    # Another member of the same household (shares the phone, email or street address) who
    # is clearly someone else: a twin, a parent, a Jr. Shown as a family note, not a warning.
    household_member: bool = False


def match_score(
    a: PersonRecord, b: PersonRecord, *, frequencies: ValueFrequencies | None = None
) -> MatchResult:
    """How likely two patient records are the same person, with the evidence in words.

    Symmetric: `match_score(a, b)` and `match_score(b, a)` have the same score. With
    `frequencies` (the clinic's own counts, `duplicates.value_frequencies`), agreeing on a
    common value weighs less.
    """
    pa, pb = record_prepare(a), record_prepare(b)
    transposed = names_transposed(pa, pb)
    if transposed:
        # Either record may be the one typed the wrong way round: both readings are scored
        # and the better kept, so the order of the two records does not matter.
        readings = []
        for x, y in ((pa, names_exchanged(pb)), (names_exchanged(pa), pb)):
            levels = pair_levels(x, y)
            readings.append((evidence_sum(levels, x, y, None), levels))
        (score, moved, common), levels = max(readings, key=lambda r: (r[0][0], [-v for v in r[1]]))
        score -= _TRANSPOSED_PENALTY
    else:
        levels = pair_levels(pa, pb)
        score, moved, common = evidence_sum(levels, pa, pb, frequencies)
    contradiction = pair_contradiction(levels, pa, pb)
    household_member = (
        contradiction in FAMILY_CONFLICTS
        and shares_household(levels)
        # One given name with another recorded sex is a slip of the sex field or a change
        # of it, not a sibling: twins are never given one name.
        and not (contradiction == SEX_CONFLICT and levels[C_GIVEN] in (G_EXACT, G_NICKNAME))
    )
    conflict = contradiction if score > _CONFLICT_CAP else ""
    if _names_unrelated(levels) and score >= WARNING_THRESHOLD:
        # Different given and family names: a birth date and a town shared with thousands
        # of others must not raise a warning at every registration (alert fatigue). Someone
        # who changed family name on marriage keeps the given name, so still meets the rule.
        score = WARNING_THRESHOLD - 1.0
        conflict = ""
    if moved and not conflict and score > _CONFLICT_CAP:
        # Two people can share a common name and birth date; only the patient can say
        # whether they moved, so this is a warning for the officer, never a verdict.
        conflict = "no phone, email or street address in common: ask whether the patient has moved"
    if household_member:
        # A twin, a parent, a Jr or Sr at the same address: a family note, not a warning.
        score = min(score, WARNING_THRESHOLD - 1.0)
        conflict = ""
    elif conflict:
        # Monotone squeeze into [cap, threshold): the candidates keep their order.
        score = _CONFLICT_CAP + (1.0 - math.exp2(-(score - _CONFLICT_CAP) / 16.0)) * 0.999
    reasons = (*reasons_in_words(a, b, pa, pb, levels, transposed=transposed), *common)
    if household_member:
        reasons = (*reasons, f"{contradiction}, in the same household")
    elif conflict:
        reasons = (*reasons, f"{conflict}: not taken as the same person without a check")
    return MatchResult(
        score=score,
        probability=_probability(score),
        reasons=reasons,
        household_member=household_member,
    )


def _names_unrelated(levels: tuple[int, ...]) -> bool:
    return levels[C_GIVEN] in (G_WEAK, G_DIFFERENT) and levels[C_FAMILY] in (F_WEAK, F_DIFFERENT)
