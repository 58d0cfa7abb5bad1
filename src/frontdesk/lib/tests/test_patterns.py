from __future__ import annotations

import pytest
import re2  # type: ignore[import-untyped, unused-ignore]

from conftest import watchdog
from frontdesk.lib import patterns

CATASTROPHIC = "(A+)+B"


def test_it_matches_the_whole_text_as_re_fullmatch_does() -> None:
    assert patterns.pattern_fullmatch(r"[A-Z]{3}\d{9}", "ABC123456789")
    assert not patterns.pattern_fullmatch(r"[A-Z]{3}\d{9}", "ABC123456789X")
    assert not patterns.pattern_fullmatch(r"[A-Z]{3}\d{9}", "XABC123456789")
    assert patterns.pattern_fullmatch(r"^BHH\d{6}$", "BHH123456")
    assert patterns.pattern_fullmatch(r"A|AB", "AB")


def test_it_matches_a_catastrophic_pattern_with_re2_in_linear_time() -> None:
    assert isinstance(patterns._compiled(CATASTROPHIC), re2._Regexp)
    with watchdog(2.0):
        assert not patterns.pattern_fullmatch(CATASTROPHIC, "A" * patterns.MAX_INPUT_LENGTH)
        assert patterns.pattern_fullmatch(CATASTROPHIC, "A" * 99 + "B")


def test_it_never_matches_text_longer_than_the_bound() -> None:
    assert patterns.pattern_fullmatch("A+", "A" * patterns.MAX_INPUT_LENGTH)
    assert not patterns.pattern_fullmatch("A+", "A" * (patterns.MAX_INPUT_LENGTH + 1))


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"(A)\1", "referring back to a group"),
        (r"(?P<a>A)(?P=a)", "referring back to a named group"),
        (r"(?=A)A", "looking ahead"),
        (r"(?<!B)A", "looking behind"),
        ("[A-Z", "a [ has no closing ]"),
        ("(AB", "a ( has no closing )"),
        ("AB)", "a ) has no opening ("),
        ("*A", "must follow a character or group"),
        ("A**", "two repeats in a row"),
        ("A{1001}", "at most 1,000"),
        (r"A\Z", r"write \z"),
        ("A{,3}", "write {0,3}"),
        ("A" * 201, "longer than 200 characters"),
        ("((((A{100}){100}){100}){100})", "1,000"),
    ],
)
def test_it_refuses_patterns_it_cannot_match_in_linear_time_in_words(
    pattern: str, words: str
) -> None:
    with pytest.raises(patterns.PatternError) as refused:
        patterns.pattern_check(pattern)
    message = str(refused.value)
    assert message.startswith("That pattern cannot be used: ")
    assert words in message


def test_it_refuses_a_pattern_too_large_for_its_memory_budget() -> None:
    with pytest.raises(patterns.PatternError, match="too large"):
        patterns.pattern_check(r"\pL{1000}")
