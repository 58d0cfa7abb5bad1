"""Regular expressions typed by people (a payer's member-ID pattern), matched in linear time.

Python's `re` backtracks, and holds the interpreter lock while it does: a pattern such as
`(A+)+B` takes seconds on a 30-character ID and forever on a 50-character one, and stalls
every other request of the process meanwhile. RE2 (google-re2) matches in time linear in the
input whatever the pattern, by leaving out the features that need backtracking
(backreferences, lookarounds). Every pattern a person types is checked and matched here, and
nowhere else; patterns written in the code stay with `re`.

Matching is `fullmatch` on the text as given, as before. Differences from `re` that a pattern
saved earlier may meet: `\\d` and `\\w` are ASCII only (member IDs are), and a pattern using
a feature RE2 lacks no longer compiles: `pattern_fullmatch` then raises `PatternError`, and
the caller decides (the coverage form skips the check; see patients/validation.py).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import re2  # type: ignore[import-untyped, unused-ignore]

# The payer's pattern column holds 200 characters; longer text is not a pattern anyone meant.
MAX_PATTERN_LENGTH = 200
# Longer than any identifier on a card (member IDs are at most 50); longer text never matches.
MAX_INPUT_LENGTH = 100
# RE2's memory budget for one compiled pattern (its default is 8 MiB): a short pattern that
# would need more, such as nested repeat counts, is refused as too large.
_MAX_MEMORY_BYTES = 1 << 20

# What RE2 reports, as the start of its error text, in the words of the person who typed it.
_REASONS: tuple[tuple[str, str], ...] = (
    ("invalid perl operator: (?=", "looking ahead with (?= is not supported"),
    ("invalid perl operator: (?!", "looking ahead with (?! is not supported"),
    ("invalid perl operator: (?<=", "looking behind with (?<= is not supported"),
    ("invalid perl operator: (?<!", "looking behind with (?<! is not supported"),
    ("invalid perl operator", "a group starting with (? of this kind is not supported"),
    ("missing ]", "a [ has no closing ]"),
    ("missing )", "a ( has no closing )"),
    ("unexpected )", "a ) has no opening ("),
    ("trailing \\", "it ends with a lone backslash"),
    ("no argument for repetition operator", "*, + or ? must follow a character or group"),
    ("bad repetition operator", "two repeats in a row (such as ** or ++) are not supported"),
    ("invalid repetition size", "a repeat count such as {5} can be at most 1,000"),
    ("invalid character class range", "a range in [ ] runs backwards or is not known"),
    ("invalid character class", "a [ ] class is not written correctly"),
    ("pattern too large", "it is too large; make it shorter or simpler"),
)
# Python reads `{,3}` as "up to 3", RE2 as the text "{,3}": refused, so no saved pattern
# starts to mean something else.
_OPEN_LOWER_BOUND = re.compile(r"(?<!\\)\{,[0-9]+\}")
_BACKREFERENCE = re.compile(r"\\[1-9]")


class PatternError(ValueError):
    """A pattern that cannot be used; the message says why in plain words."""


def _refusal(reason: str) -> PatternError:
    return PatternError(f"That pattern cannot be used: {reason}.")


def _reason(pattern: str, detail: str) -> str:
    if detail.startswith("invalid escape sequence"):
        if _BACKREFERENCE.search(pattern):
            return "referring back to a group (such as \\1) is not supported"
        if "\\Z" in pattern:
            return "write \\z, not \\Z, for the end of the text"
        return f"the escape {detail.partition(': ')[2] or 'used'} is not known"
    if detail.startswith("invalid perl operator: (?P") and "(?P=" in pattern:
        return "referring back to a named group with (?P= is not supported"
    for start, reason in _REASONS:
        if detail.startswith(start):
            return reason
    return f"it is not a pattern Frontdesk can check ({detail})"


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    """The compiled pattern, or PatternError; cached, as a payer's pattern is used often."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise _refusal(f"it is longer than {MAX_PATTERN_LENGTH} characters")
    if _OPEN_LOWER_BOUND.search(pattern):
        raise _refusal("write {0,3} rather than {,3} for “up to 3”")
    options = re2.Options()
    options.max_mem = _MAX_MEMORY_BYTES
    # RE2 would print each refused pattern to standard error; the caller reports it instead.
    options.log_errors = False
    try:
        return re2.compile(pattern, options=options)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else ""
        detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise _refusal(_reason(pattern, detail)) from None


def pattern_check(pattern: str) -> None:
    """Raise PatternError, in words, unless `pattern` can be matched in linear time."""
    _compiled(pattern)


def pattern_fullmatch(pattern: str, text: str) -> bool:
    """Whether the whole of `text` matches `pattern` (as `re.fullmatch`), in linear time.

    Text longer than MAX_INPUT_LENGTH never matches. Raises PatternError if the pattern
    cannot be used."""
    compiled = _compiled(pattern)
    if len(text) > MAX_INPUT_LENGTH:
        return False
    return compiled.fullmatch(text) is not None


# A pattern searched for inside longer text (a red-flag pattern in a patient's question): RE2
# stays linear in the text, so the only limit is the text the caller allows.
SEARCH_INPUT_MAX = 10_000


def pattern_search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches anywhere in `text`, case-insensitive, in linear time.

    Text beyond SEARCH_INPUT_MAX characters is not searched. Raises PatternError if the
    pattern cannot be used."""
    _compiled(pattern)  # checked as typed: wrapping must not make "a)(b" balanced
    compiled = _compiled(f"(?i:{pattern})")
    return compiled.search(text[:SEARCH_INPUT_MAX]) is not None
