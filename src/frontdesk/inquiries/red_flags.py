"""Red-flag phrases in a patient's words: "chest pain", "trouble breathing", stroke signs.

A phrase matches when each of its words appears within a short window of the text, in any
order ("my chest has a pain" meets "chest pain"), each word tolerant of capitals, accents,
word endings and a typo or two ("Chest Pians", "truble breathing", "his arm feels weak"):
words are folded and stemmed (Snowball's English stemmer: "weakness" and "weak", "drooping"
and "droops" meet), then compared by Damerau-Levenshtein distance (jellyfish), one edit for
stems of 4 to 7 letters, two from 8. Short stems (3 letters or fewer) must be exact, so "leg"
never meets "log".

Negation is NOT read: "no chest pain today" raises the flag. Deciding whether a caller denies a
symptom ("no, the chest pain is back", "not sure it isn't chest pain") is beyond a word
matcher, and a missed emergency costs more than a question answered early. The desk sees which
phrase matched and, when a negating word ("no", "not", "denies", "without") came just before
it, a note to ask the caller directly; the clinician sees the words themselves.

A line of the clinic's list starting with "re:" is a pattern typed by a person: it is checked
and matched by RE2 through lib/patterns.py, never by Python's `re`.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import jellyfish
import snowballstemmer  # type: ignore[import-untyped, unused-ignore]

from frontdesk.lib.patterns import PatternError, pattern_check, pattern_search

DEFAULT_RED_FLAGS = """\
chest pain
chest pressure
chest tightness
trouble breathing
difficulty breathing
short of breath
shortness of breath
can't breathe
not breathing
choking
face drooping
slurred speech
arm weakness
numbness one side
sudden confusion
stroke
severe bleeding
heavy bleeding
won't stop bleeding
coughing blood
vomiting blood
suicidal
suicidal thoughts
kill myself
want to die
overdose
unconscious
passed out
fainted
seizure
convulsion
worst headache
throat swelling
severe allergic reaction
anaphylaxis
"""

# Words a phrase or the text may hold that carry no meaning for matching.
_FILLER = frozenset(
    {"a", "an", "the", "my", "his", "her", "their", "of", "on", "in", "is", "to", "feel"}
)
_NEGATIONS = frozenset({"no", "not", "denies", "denied", "without", "never", "nor"})
# Extra words allowed between a phrase's words: "pain in my left chest" still meets it.
_SLACK = 2
PHRASE_MAX = 100
PHRASES_MAX = 200


@dataclass(frozen=True)
class RedFlagMatch:
    phrase: str
    negated: bool  # a negating word came just before it: ask the caller directly


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_STEMMER = snowballstemmer.stemmer("english")

# A word as the text has it (folded) and its stem: "bleeding" and "bleed". A typo in an ending
# ("bleedng") spoils the stem, so words are compared both ways.
Word = tuple[str, str]


def tokens(text: str) -> list[Word]:
    """The text's words, folded (lower case, no accents, apostrophes dropped), each with its
    stem; words that carry no meaning for matching are left out."""
    folded = _fold(text).replace("'", "").replace("\u2019", "")
    raw = "".join(c if c.isalnum() else " " for c in folded).split()
    stems = [str(w) for w in _STEMMER.stemWords(raw)]
    return [(w, st) for w, st in zip(raw, stems, strict=True) if not {w, st} & _FILLER]


def _near(expected: str, seen: str) -> bool:
    if expected == seen:
        return True
    if len(expected) <= 3:
        return False
    allowed = 1 if len(expected) < 8 else 2
    if abs(len(expected) - len(seen)) > allowed:
        return False
    return jellyfish.damerau_levenshtein_distance(expected, seen) <= allowed


def _close(expected: Word, seen: Word) -> bool:
    return _near(expected[1], seen[1]) or _near(expected[0], seen[0])


@functools.lru_cache(maxsize=64)
def _phrase_words(phrase: str) -> tuple[Word, ...]:
    return tuple(tokens(phrase))


def _find(
    words: Sequence[Word], wanted: Sequence[Word], close: dict[Word, frozenset[Word]]
) -> int | None:
    """Where the first window holding every wanted word starts, or None. `close` says which
    phrase words each word of the text may stand for."""
    span = len(wanted) + _SLACK
    for start, first in enumerate(words):
        if not close[first] & set(wanted):
            continue
        remaining = list(wanted)
        for seen in words[start : start + span]:
            for index, expected in enumerate(remaining):
                if expected in close[seen]:
                    del remaining[index]
                    break
            if not remaining:
                return start
    return None


def phrases_parse(text: str) -> list[str]:
    """The clinic's list as stored: one phrase a line, blank lines and repeats dropped."""
    seen: dict[str, None] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        phrase = " ".join(line.split())
        if phrase and phrase.casefold() not in {p.casefold() for p in seen}:
            seen[phrase] = None
    return list(seen)


def phrases_check(text: str) -> list[str]:
    """The list, or ValueError in words: a phrase too long, a pattern RE2 cannot use."""
    phrases = phrases_parse(text)
    if not phrases:
        raise ValueError("Keep at least one red-flag phrase: an empty list would flag nothing.")
    if len(phrases) > PHRASES_MAX:
        raise ValueError(f"Keep the list to {PHRASES_MAX} phrases or fewer.")
    for phrase in phrases:
        if len(phrase) > PHRASE_MAX:
            raise ValueError(f"Keep each phrase to {PHRASE_MAX} characters: “{phrase[:40]}…”.")
        if phrase.lower().startswith("re:"):
            try:
                pattern_check(phrase[3:].strip())
            except PatternError as exc:
                raise ValueError(f"“{phrase}”: {exc}") from None
        elif not _phrase_words(phrase):
            raise ValueError(f"“{phrase}” has no word to look for.")
    return phrases


def red_flags_find(text: str, phrases: Sequence[str]) -> list[RedFlagMatch]:
    """The phrases of the list found in `text`, each once, in the list's order."""
    words = tokens(text)
    expected = {w for phrase in phrases for w in _phrase_words(phrase)}
    # Each distinct word compared once with each distinct phrase word: a long message repeats.
    close = {seen: frozenset(e for e in expected if _close(e, seen)) for seen in set(words)}
    found: list[RedFlagMatch] = []
    for phrase in phrases:
        if phrase.lower().startswith("re:"):
            try:
                hit = pattern_search(phrase[3:].strip(), text)
            except PatternError:
                hit = False  # refused when saved; an older stored pattern is skipped
            if hit:
                found.append(RedFlagMatch(phrase=phrase, negated=False))
            continue
        wanted = _phrase_words(phrase)
        if not wanted:
            continue
        start = _find(words, wanted, close)
        if start is not None:
            before = {raw for raw, _stem in words[max(0, start - 3) : start]}
            found.append(RedFlagMatch(phrase=phrase, negated=bool(_NEGATIONS & before)))
    return found
