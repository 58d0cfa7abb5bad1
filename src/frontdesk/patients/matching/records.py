"""The record the scorer compares, normalised and prepared, and its blocking keys.

Speed: a record is prepared once (normalised, phonetic and spelling codes) and cached, so
scoring one new registration against 200 candidates costs some tens of microseconds a pair
cold and about 15 warm (`bench/matching_febrl.py` prints it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import jellyfish

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
    p = record_prepare(rec)
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


# Prepared records: everything a comparison needs, computed once per record.


# Everything a comparison needs, computed once per record.
@dataclass(frozen=True, slots=True)
class PreparedRecord:
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
def name_parts(given_words: tuple[str, ...], family_words: tuple[str, ...]) -> dict[str, object]:
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
def record_prepare(rec: PersonRecord) -> PreparedRecord:
    given_words = tuple(normalise_name(rec.given_name).split())
    family_list, suffix = _split_suffix(
        normalise_name(rec.family_name).split(), suffix_normalise(rec.suffix)
    )
    house1, street = _address_words(rec.address_line1)
    house2, line2 = _address_words(rec.address_line2)
    digits = "".join(_DIGITS.findall(rec.phone))
    city = normalise_name(rec.city).replace(" ", "")
    return PreparedRecord(
        **name_parts(given_words, tuple(family_list)),  # type: ignore[arg-type]
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
