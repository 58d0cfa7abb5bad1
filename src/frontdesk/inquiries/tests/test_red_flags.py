"""Red-flag phrases in a patient's words: tolerant of capitals, typos, plurals and word order;
a pattern typed by a person goes through RE2; negation is not read (documented choice)."""

from __future__ import annotations

import time

import pytest

from frontdesk.inquiries.red_flags import (
    DEFAULT_RED_FLAGS,
    phrases_check,
    phrases_parse,
    red_flags_find,
)

DEFAULTS = phrases_parse(DEFAULT_RED_FLAGS)


def _found(text: str) -> list[str]:
    return [m.phrase for m in red_flags_find(text, DEFAULTS)]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("I have CHEST PAIN since this morning", "chest pain"),
        ("my chest pians are worse", "chest pain"),  # a typo and a plural
        ("Chest Paines again", "chest pain"),
        ("there is a pain in my chest", "chest pain"),  # another order, filler words
        ("he has truble breathing at night", "trouble breathing"),
        ("Her face is drooping on one side", "face drooping"),
        ("his speech is slurred", "slurred speech"),
        ("I've had suicidal thougths", "suicidal thoughts"),
        ("Severe bleding from the cut", "severe bleeding"),
        ("SEVERE BLEEDNG", "severe bleeding"),  # a typo in the ending
        ("she denies chest pain", "chest pain"),
        ("she is short of breath", "short of breath"),
        ("I can't breathe properly", "can't breathe"),
        ("his left arm feels weak", "arm weakness"),  # another form of the word
        ("her face droops", "face drooping"),
    ],
)
def test_a_red_flag_is_found_whatever_the_capitals_typos_plurals_or_order(
    text: str, phrase: str
) -> None:
    assert phrase in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Can I move my appointment to Tuesday?",
        "I need a new chest of drawers for the waiting room",
        "A question about my bill: the pain clinic charged twice",
        "Is my repeat prescription for breathing tablets ready?",
    ],
)
def test_ordinary_questions_raise_no_red_flag(text: str) -> None:
    assert _found(text) == []


def test_a_short_word_must_match_exactly_so_a_typo_does_not_make_a_new_word() -> None:
    assert not red_flags_find("a log on the swollen ankle", ["leg swollen"])
    assert red_flags_find("her LEG is SWOLLEN", ["leg swollen"])
    assert "seizure" in _found("my son had two seizures this morning")


def test_a_negated_mention_still_raises_the_flag_with_a_note_to_ask_the_caller() -> None:
    """The documented choice: negation is not read. "No chest pain today" is flagged (the
    officer asks the caller directly, the clinician reads the words); a matcher that dropped
    it would also drop "no, the chest pain is back"."""
    (match,) = red_flags_find("No chest pain today, just a cough", DEFAULTS)
    assert match.phrase == "chest pain"
    assert match.negated is True
    (back,) = red_flags_find("The chest pain is back", DEFAULTS)
    assert back.negated is False
    (denied,) = red_flags_find("Patient denies chest pain", DEFAULTS)
    assert denied.negated is True


def test_a_pattern_line_is_matched_by_re2_and_a_backtracking_pattern_is_refused() -> None:
    phrases = ["re:blood\\s+(pressure|sugar)\\s+(over|above)\\s+[0-9]{3}"]
    assert red_flags_find("Blood sugar above 400 this morning", phrases)
    assert not red_flags_find("blood sugar fine", phrases)
    with pytest.raises(ValueError, match="referring back"):
        phrases_check("chest pain\nre:(a)\\1")
    with pytest.raises(ValueError, match="at least one"):
        phrases_check("  \n\n")


def test_a_pattern_that_only_balances_once_wrapped_is_refused() -> None:
    with pytest.raises(ValueError, match="no opening"):
        phrases_check("re:a)(b")


def test_an_enormous_message_is_matched_in_well_under_a_second() -> None:
    text = "I feel tired and a bit dizzy. " * 500 + "and now chest pain"
    start = time.perf_counter()
    assert "chest pain" in _found(text)
    assert time.perf_counter() - start < 1.0
