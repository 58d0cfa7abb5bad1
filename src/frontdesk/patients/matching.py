"""Duplicate-patient scoring for the master patient index (pure Python, no models).

A Fellegi-Sunter model: each field of two records is compared into one of a few
agreement levels (exact, nickname, one typo, day and month swapped, different, missing...),
and each level carries a weight log2(m/u), where m is the chance of that level when the two
records are the same person and u the chance when they are not. The score is the sum of the
weights in bits, so +10 means the agreements seen are about 1000 times likelier for one
person than for two. A missing field weighs nothing.

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
  warning, since a namesake born the same day in the same town looks exactly the same;
- inside a family, twins share family name, birth date, address and phone, and a parent and
  child can share every name and the address: a pair with a contradiction (different
  generational suffixes, a birth year decades off on the same day and month, a clearly
  different given name, birth date or recorded sex) stays below
  `EXISTING_PATIENT_THRESHOLD`; when it also shares the household it is a household member
  (`MatchResult.household_member`), shown as a family note rather than a warning.

`match_score(a, b) == match_score(b, a)`: names typed the wrong way round are read both ways
and the better reading kept, and every comparison is symmetric
(`test_matching_contradictions.py` proves it over generated records).

Speed: a record is prepared once (normalised, phonetic and spelling codes) and cached, so
scoring one new registration against 200 candidates costs some tens of microseconds a pair
cold and about 15 warm (`bench/matching_febrl.py` prints it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import jellyfish
from rapidfuzz.distance import OSA, Hamming, JaroWinkler

from frontdesk.patients.nicknames import family_spellings, formal_names, spelling_key


@dataclass(frozen=True)
class PersonRecord:
    given_name: str
    family_name: str
    birth_date: dt.date | None
    middle_name: str = ""
    sex: str = ""  # "female" / "male" / "other" / "unknown" / ""
    phone: str = ""  # digits or E.164
    address_line1: str = ""
    city: str = ""
    postal_code: str = ""
    state: str = ""
    email: str = ""
    address_line2: str = ""
    suffix: str = ""  # generational: Jr, Sr, II, III...


@dataclass(frozen=True)
class MatchResult:
    score: float  # log2 Bayes factor in bits; higher = more likely the same person
    probability: float  # 0..1, under the prior `PRIOR_MATCH_PROBABILITY`
    reasons: tuple[str, ...]
    # Another member of the same household (shares the phone, email or street address) who
    # is clearly someone else: a twin, a parent, a Jr. Shown as a family note, not a warning.
    household_member: bool = False


@dataclass(frozen=True)
class ValueFrequencies:
    """How many records of the clinic's index hold each value, and how many records it has.

    Keys are the prepared forms `match_score` compares: given and family names normalised
    with spaces removed, birth dates as YYYYMMDD, postal codes normalised. A value not
    listed keeps the model's average weight.
    """

    index_size: int
    given: Mapping[str, int] = dataclasses.field(default_factory=dict)
    family: Mapping[str, int] = dataclasses.field(default_factory=dict)
    birth_date: Mapping[str, int] = dataclasses.field(default_factory=dict)
    postcode: Mapping[str, int] = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Normalisation and keys

_FOLD = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",
    }
)
_APOSTROPHES = re.compile("['`\u2018\u2019\u00b4]")
_NON_ALNUM = re.compile(r"[^\w]+|_")


@functools.lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """Unicode NFKD, accents stripped, lowercase, punctuation dropped, spaces collapsed.

    Apostrophes vanish (O'Brien -> obrien); hyphens and other punctuation become a space
    (Lillie-Hinrichs -> lillie hinrichs). Letters of other scripts are kept, lowercased.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)
    return " ".join(_NON_ALNUM.sub(" ", _APOSTROPHES.sub("", stripped)).split())


def name_phonetic_key(name: str) -> str:
    """NYSIIS code of the normalised name with its spaces removed ('' for an empty name)."""
    compact = normalise_name(name).replace(" ", "")
    return jellyfish.nysiis(compact) if compact else ""


def given_name_canonical(name: str) -> str:
    """The formal form of a given name's first word: Bob -> robert, Liz -> elizabeth."""
    words = normalise_name(name).split()
    return formal_names(words[0])[0] if words else ""


def _sorted_day_month(date: dt.date) -> str:
    low, high = sorted((date.month, date.day))
    return f"{low:02d}{high:02d}"


def blocking_keys(rec: PersonRecord) -> frozenset[str]:
    """Keys that true duplicates almost always share at least one of.

    Each key survives a different kind of error, so a pair is lost only when errors hit
    all of them. Names enter as NYSIIS codes (the first six letters), the given name also
    through its formal forms (Bob -> robert), and given and family codes share one key
    space so transposed names still meet. Birth dates enter with day and month in sorted
    order, so a swap keeps the key. The keys: birth date; the two name codes together;
    each name code with the birth year, and with the day and month; postcode or city with
    a name code, with a street code and with the house number; street code with house
    number; phone; email.
    """
    p = _prepare(rec)
    keys: set[str] = set()
    dob = rec.birth_date
    # Given and family codes share one key space, so transposed names still meet.
    names = {code for code in (p.family_key, *p.given_keys) if code}
    places = {value for value in (p.postcode, p.city_key) if value}
    streets = {value for value in (p.street_key, p.line2_key) if value}
    if dob is not None:
        day_month = _sorted_day_month(dob)
        keys.add(f"d:{dob.year}{day_month}")
        keys.update(f"y:{code}:{dob.year}" for code in names)
        keys.update(f"m:{code}:{day_month}" for code in names)
    if p.family_key:
        for given in p.given_keys:
            low, high = sorted((p.family_key, given))
            keys.add(f"n:{low}:{high}")
    for place in places:
        keys.update(f"p:{place}:{code}" for code in names | streets)
        keys.update(f"h:{place}:{number}" for number in p.house)
    keys.update(f"a:{street}:{number}" for street in streets for number in p.house)
    if len(p.phone) >= 7:
        keys.add(f"t:{p.phone}")
    if p.email:
        keys.add(f"e:{p.email}")
    return frozenset(keys)


# ---------------------------------------------------------------------------------------------
# Prepared records: everything a comparison needs, computed once per record.


@dataclass(frozen=True, slots=True)
class _Prepared:
    given: str  # normalised, spaces removed
    given_first: str  # first word
    given_words: frozenset[str]
    given_forms: frozenset[str]  # formal names the first word can stand for
    given_phonetic: str
    given_spelling: str  # `nicknames.spelling_key` of the first word
    given_keys: tuple[str, ...]  # phonetic codes of the formal names, for blocking
    family: str  # normalised, spaces removed
    family_words: frozenset[str]
    family_phonetic: str
    family_forms: frozenset[str]  # romanisations of the family name (Zhang, Chang, Cheung)
    family_key: str
    given_order: tuple[str, ...]  # the words of each name in order, to transpose them
    family_order: tuple[str, ...]
    suffix: str  # jr, sr, ii, iii... or ""
    middle: str
    dob: str  # YYYYMMDD or ""
    sex: str
    phone: str  # the last 9 digits
    email: str
    house: frozenset[str]  # house, flat and lot numbers
    street: str  # words of address line 1, spaces removed
    street_key: str
    line2: str
    line2_key: str
    city: str
    city_key: str
    postcode: str
    state: str


_SEXES: Final = {"female": "f", "f": "f", "male": "m", "m": "m"}
_DIGITS = re.compile(r"\d+")


def _block_code(compact: str) -> str:
    return jellyfish.nysiis(compact)[:6] if compact else ""


# Street-type words in their usual short form, so "12 High Street" meets "12 High St".
_STREET_WORDS: Final = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "drive": "dr",
    "court": "ct",
    "place": "pl",
    "crescent": "cres",
    "circuit": "cct",
    "lane": "ln",
    "terrace": "tce",
    "boulevard": "blvd",
    "highway": "hwy",
    "parade": "pde",
    "close": "cl",
    "square": "sq",
    "parkway": "pkwy",
    "apartment": "apt",
    "suite": "ste",
}


def _address_words(line: str) -> tuple[frozenset[str], str]:
    norm = normalise_name(line)
    numbers = frozenset(n.lstrip("0") or "0" for n in _DIGITS.findall(norm))
    words = "".join(_STREET_WORDS.get(w, w) for w in norm.split() if not w.isdigit())
    return numbers, words


def postcode_normalise(value: str) -> str:
    """A postal code as the scorer compares it (the key of `ValueFrequencies.postcode`)."""
    return _postcode(value)


def _postcode(value: str) -> str:
    compact = normalise_name(value).replace(" ", "")
    # A US ZIP+4 compares on its five-digit ZIP.
    return compact[:5] if len(compact) == 9 and compact.isdigit() else compact


# Generational suffixes as written, to one form each; "2nd" and "II" are one suffix.
_SUFFIXES: Final = {
    "jr": "jr",
    "junior": "jr",
    "jnr": "jr",
    "sr": "sr",
    "senior": "sr",
    "snr": "sr",
    "ii": "ii",
    "2nd": "ii",
    "iii": "iii",
    "3rd": "iii",
    "iv": "iv",
    "4th": "iv",
    "v": "v",
    "5th": "v",
}


def suffix_normalise(value: str) -> str:
    """A generational suffix in one form (Jr., junior -> jr; 3rd -> iii), or ""."""
    return _SUFFIXES.get(normalise_name(value).replace(" ", ""), "")


def _split_suffix(family_words: list[str], suffix: str) -> tuple[list[str], str]:
    """A suffix typed into the family name box ("Smith Jr") is taken out of the name."""
    if len(family_words) > 1 and family_words[-1] in _SUFFIXES and family_words[-1] != "v":
        found = _SUFFIXES[family_words[-1]]
        return family_words[:-1], suffix or found
    return family_words, suffix


@functools.lru_cache(maxsize=16384)
def _name_parts(given_words: tuple[str, ...], family_words: tuple[str, ...]) -> dict[str, object]:
    """The name fields of a prepared record; also used to transpose given and family names,
    so a transposed record is prepared exactly like one typed the other way round."""
    given_first = given_words[0] if given_words else ""
    forms = formal_names(given_first) if given_first else ()
    family = "".join(family_words)
    return {
        "given": "".join(given_words),
        "given_first": given_first,
        "given_words": frozenset(given_words),
        "given_forms": frozenset(forms),
        "given_phonetic": jellyfish.nysiis(given_first) if given_first else "",
        "given_spelling": spelling_key(given_first),
        "given_keys": tuple(sorted({_block_code(f) for f in (given_first, *forms) if f})),
        "family": family,
        "family_words": frozenset(family_words),
        "family_phonetic": jellyfish.nysiis(family) if family else "",
        "family_forms": frozenset(family_spellings(family_words)),
        "family_key": _block_code(family),
        "given_order": given_words,
        "family_order": family_words,
    }


def birth_date_key(value: dt.date) -> str:
    """A birth date as the scorer compares it (the key of `ValueFrequencies.birth_date`)."""
    return _dob_text(value)


def _dob_text(value: dt.date | None) -> str:
    # Not strftime: it drops the leading zeros of a year before 1000 on some platforms.
    return f"{value.year:04d}{value.month:02d}{value.day:02d}" if value else ""


@functools.lru_cache(maxsize=16384)
def _prepare(rec: PersonRecord) -> _Prepared:
    given_words = tuple(normalise_name(rec.given_name).split())
    family_list, suffix = _split_suffix(
        normalise_name(rec.family_name).split(), suffix_normalise(rec.suffix)
    )
    house1, street = _address_words(rec.address_line1)
    house2, line2 = _address_words(rec.address_line2)
    digits = "".join(_DIGITS.findall(rec.phone))
    city = normalise_name(rec.city).replace(" ", "")
    return _Prepared(
        **_name_parts(given_words, tuple(family_list)),  # type: ignore[arg-type]
        suffix=suffix,
        middle=normalise_name(rec.middle_name).replace(" ", ""),
        dob=_dob_text(rec.birth_date),
        sex=_SEXES.get(rec.sex.strip().lower(), ""),
        phone=digits[-9:],
        email=rec.email.strip().lower(),
        house=house1 | house2,
        street=street,
        street_key=_block_code(street),
        line2=line2,
        line2_key=_block_code(line2),
        city=city,
        city_key=_block_code(city),
        postcode=_postcode(rec.postal_code),
        state=normalise_name(rec.state).replace(" ", ""),
    )


# ---------------------------------------------------------------------------------------------
# Comparison levels. Level 0 is always "missing on one side" and weighs nothing.

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


def _given_level(a: _Prepared, b: _Prepared) -> int:
    if not a.given or not b.given:
        return 0
    if a.given == b.given or a.given_first == b.given_first:
        return G_EXACT
    if a.given_forms & b.given_forms or _goes_by_middle_name(a, b):
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


def _same_spelling(a: _Prepared, b: _Prepared) -> bool:
    """Two spellings of one sound (Mohammed, Muhammad; Yusuf, Youssef): see `spelling_key`."""
    return len(a.given_spelling) >= 3 and a.given_spelling == b.given_spelling


def _goes_by_middle_name(a: _Prepared, b: _Prepared) -> bool:
    """John Robert Smith registered again as Robert Smith."""
    return (len(a.middle) > 1 and a.middle == b.given_first) or (
        len(b.middle) > 1 and b.middle == a.given_first
    )


def _family_level(a: _Prepared, b: _Prepared) -> int:
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


def _names_transposed(a: _Prepared, b: _Prepared) -> bool:
    if not (a.given and a.family and b.given and b.family):
        return False
    straight = JaroWinkler.similarity(a.given, b.given) + JaroWinkler.similarity(a.family, b.family)
    crossed = JaroWinkler.similarity(a.given, b.family) + JaroWinkler.similarity(a.family, b.given)
    return crossed > straight + 0.3


def _transposed(p: _Prepared) -> _Prepared:
    """The record with given and family names exchanged, every word kept."""
    return dataclasses.replace(p, **_name_parts(p.family_order, p.given_order))  # type: ignore[arg-type]


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


def _address_text_levels(a: _Prepared, b: _Prepared) -> tuple[int, int]:
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


def _levels(a: _Prepared, b: _Prepared) -> tuple[int, ...]:
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
    pa, pb = _prepare(a), _prepare(b)
    transposed = _names_transposed(pa, pb)
    levels = _levels(pa, _transposed(pb)) if transposed else _levels(pa, pb)
    if levels[C_DOB] in (D_YEARS_APART, D_DECADE):
        tabled = D_DIFFERENT if levels[C_DOB] == D_YEARS_APART else D_ONE_DIGIT
        levels = (*levels[:C_DOB], tabled, *levels[C_DOB + 1 :])
    return levels, transposed


# ---------------------------------------------------------------------------------------------
# The model.

# (m, u) per level, level 0 (missing) excluded, in the order of the level constants above.
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
_WEIGHTS: Final = tuple(
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
    average = _WEIGHTS[comparison][level]
    return min(max(math.log2(m / u), average - _TF_MAX_LOSS), average + _TF_MAX_GAIN)


def _tf_value(comparison: int, a: _Prepared, b: _Prepared, freq: ValueFrequencies) -> int | None:
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


def _evidence(
    levels: tuple[int, ...], a: _Prepared, b: _Prepared, freq: ValueFrequencies | None
) -> tuple[float, bool, tuple[str, ...]]:
    """The sum of the weights under the household rules: (score, moved, common values)."""
    weights = [_WEIGHTS[i][level] for i, level in enumerate(levels)]
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


def match_score(
    a: PersonRecord, b: PersonRecord, *, frequencies: ValueFrequencies | None = None
) -> MatchResult:
    """How likely two patient records are the same person, with the evidence in words.

    Symmetric: `match_score(a, b)` and `match_score(b, a)` have the same score. With
    `frequencies` (the clinic's own counts, `duplicates.value_frequencies`), agreeing on a
    common value weighs less.
    """
    pa, pb = _prepare(a), _prepare(b)
    transposed = _names_transposed(pa, pb)
    if transposed:
        # Either record may be the one typed the wrong way round: both readings are scored
        # and the better kept, so the order of the two records does not matter.
        readings = []
        for x, y in ((pa, _transposed(pb)), (_transposed(pa), pb)):
            levels = _levels(x, y)
            readings.append((_evidence(levels, x, y, None), levels))
        (score, moved, common), levels = max(readings, key=lambda r: (r[0][0], [-v for v in r[1]]))
        score -= _TRANSPOSED_PENALTY
    else:
        levels = _levels(pa, pb)
        score, moved, common = _evidence(levels, pa, pb, frequencies)
    contradiction = _conflict(levels, pa, pb)
    household_member = (
        contradiction in _FAMILY_CONFLICTS
        and _shares_household(levels)
        # One given name with another recorded sex is a slip of the sex field or a change
        # of it, not a sibling: twins are never given one name.
        and not (contradiction == _SEX_CONFLICT and levels[C_GIVEN] in (G_EXACT, G_NICKNAME))
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
    reasons = (*_reasons(a, b, pa, pb, levels, transposed=transposed), *common)
    if household_member:
        reasons = (*reasons, f"{contradiction}: another member of the household")
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


def _person_agrees(
    levels: tuple[int, ...], a: _Prepared, freq: ValueFrequencies | None = None
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
    levels: tuple[int, ...], a: _Prepared, freq: ValueFrequencies | None, *, family_agrees: bool
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


def _shares_household(levels: tuple[int, ...]) -> bool:
    """The same phone or email, or the same street and house number."""
    return (
        levels[C_PHONE] == E_EXACT
        or levels[C_EMAIL] == E_EXACT
        or (levels[C_STREET] in (T_EXACT, T_CLOSE) and levels[C_HOUSE] != S_DIFFERENT)
    )


_SUFFIX_CONFLICT: Final = "different generational suffixes (such as Jr and Sr): a parent and child"
_SEX_CONFLICT: Final = "different recorded sex: could be a twin or another family member"
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
_FAMILY_CONFLICTS: Final = frozenset(
    (_SUFFIX_CONFLICT, _SEX_CONFLICT, _YEARS_CONFLICT, _GIVEN_CONFLICT, _DOB_CONFLICT)
)


def _conflict(levels: tuple[int, ...], a: _Prepared, b: _Prepared) -> str:
    """Why the pair must not reach the existing-patient threshold, or "".

    The independence the model assumes fails inside families: twins share family name,
    birth date, address and phone, and a parent and child can share every name and the
    address. A different generational suffix, a clearly different given name, birth date or
    recorded sex keeps a pair below the existing-patient verdict however much else agrees.
    """
    if a.suffix and b.suffix and a.suffix != b.suffix:
        return _SUFFIX_CONFLICT
    if levels[C_SEX] == S_DIFFERENT:
        return _SEX_CONFLICT
    if levels[C_DOB] == D_YEARS_APART:
        return _YEARS_CONFLICT
    if levels[C_GIVEN] in (G_WEAK, G_DIFFERENT):
        return _GIVEN_CONFLICT
    if levels[C_DOB] == D_DIFFERENT:
        return _DOB_CONFLICT
    if levels[C_DOB] == D_DECADE:
        return _DECADE_CONFLICT
    if levels[C_GIVEN] in (G_SIMILAR, G_INITIAL) and _shares_household(levels):
        # Michael and Mitchell at one address, born the same day: twins as likely as a typo.
        return _ALIKE_CONFLICT
    if levels[C_FAMILY] in (F_WEAK, F_DIFFERENT):
        if (
            levels[C_GIVEN] in (G_EXACT, G_NICKNAME, G_TYPO)
            and levels[C_DOB] == D_EXACT
            and _shares_household(levels)
        ):
            # Given name, birth date and the home's phone, email or street all agree: a
            # change of family name (marriage), not a namesake, who would live elsewhere.
            return ""
        # A married name is possible, but so is a namesake born the same day in the same town.
        return _FAMILY_CONFLICT
    return ""


def _reasons(
    a: PersonRecord,
    b: PersonRecord,
    pa: _Prepared,
    pb: _Prepared,
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
    elif given == G_NICKNAME and not transposed and _goes_by_middle_name(pa, pb):
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
