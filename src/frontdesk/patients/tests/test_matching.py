"""The duplicate-patient scorer: what the registration check sees for typical duplicates."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from frontdesk.patients.matching.records import (
    PersonRecord,
    blocking_keys,
    given_name_canonical,
    name_phonetic_key,
    normalise_name,
)
from frontdesk.patients.matching.verdict import (
    EXISTING_PATIENT_THRESHOLD,
    WARNING_THRESHOLD,
    match_score,
)

ROBERT = PersonRecord(
    given_name="Robert",
    family_name="Fitzgerald",
    birth_date=dt.date(1984, 3, 7),
    sex="male",
    phone="+14155550132",
    address_line1="221 Baker Street",
    city="Springfield",
    postal_code="62704",
    state="IL",
    email="robert.fitzgerald@example.org",
)


def variant(base: PersonRecord, **changes: object) -> PersonRecord:
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_it_matches_a_nickname_with_its_formal_name() -> None:
    result = match_score(ROBERT, variant(ROBERT, given_name="Bob"))
    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert "nickname Bob = Robert" in result.reasons


def test_it_matches_a_nickname_on_a_sparse_record() -> None:
    sparse = PersonRecord("Liz", "Okafor", dt.date(1990, 11, 23), phone="07700900123")
    formal = PersonRecord("Elizabeth", "Okafor", dt.date(1990, 11, 23), phone="07700900123")
    result = match_score(sparse, formal)
    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert "nickname Liz = Elizabeth" in result.reasons


def test_it_tolerates_swapped_day_and_month() -> None:
    swapped = variant(ROBERT, birth_date=dt.date(1984, 7, 3))
    result = match_score(ROBERT, swapped)
    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert "same birth date with day and month swapped" in result.reasons


def test_it_tolerates_a_one_digit_typo_in_the_birth_date() -> None:
    result = match_score(ROBERT, variant(ROBERT, birth_date=dt.date(1985, 3, 7)))
    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert "birth dates one digit apart" in result.reasons


def test_it_tolerates_one_typo_in_the_family_name() -> None:
    result = match_score(ROBERT, variant(ROBERT, family_name="Fitzgeradl"))
    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert any(r.startswith("family names differ by a typo") for r in result.reasons)


def test_it_recognises_transposed_given_and_family_names() -> None:
    transposed = variant(ROBERT, given_name="Fitzgerald", family_name="Robert")
    result = match_score(ROBERT, transposed)
    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert "given and family names transposed" in result.reasons


def test_it_matches_someone_who_goes_by_their_middle_name() -> None:
    full = variant(ROBERT, given_name="John", middle_name="Robert")
    result = match_score(full, ROBERT)
    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert "goes by the middle name Robert" in result.reasons


def test_it_compares_a_local_phone_number_with_its_international_form() -> None:
    local = variant(ROBERT, phone="555-0132")
    assert "same phone" in match_score(ROBERT, local).reasons


def test_it_compares_a_zip_plus_four_with_its_zip() -> None:
    zip4 = variant(ROBERT, postal_code="62704-1120")
    assert "same postal code" in match_score(ROBERT, zip4).reasons


def test_it_matches_a_double_barrelled_family_name_with_one_of_its_parts() -> None:
    married = variant(ROBERT, family_name="Fitzgerald-Okoye")
    result = match_score(ROBERT, married)
    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert "family names share a part" in result.reasons


def test_it_finds_the_same_person_after_a_move() -> None:
    moved = variant(
        ROBERT,
        phone="+13125550199",
        address_line1="9 Elm Avenue",
        city="Chicago",
        postal_code="60601",
        email="",
    )
    result = match_score(ROBERT, moved)
    assert result.score >= WARNING_THRESHOLD


def test_it_keeps_different_people_with_a_common_name_and_birth_date_below_the_threshold() -> None:
    one = PersonRecord(
        "John",
        "Smith",
        dt.date(1980, 1, 2),
        sex="male",
        phone="+12025550143",
        address_line1="12 Oak Road",
        city="Arlington",
        postal_code="22201",
        state="VA",
    )
    other = PersonRecord(
        "John",
        "Smith",
        dt.date(1980, 1, 2),
        sex="male",
        phone="+15035550178",
        address_line1="480 Pine Street",
        city="Portland",
        postal_code="97205",
        state="OR",
    )
    result = match_score(one, other)
    assert result.score < EXISTING_PATIENT_THRESHOLD
    assert "different phone" in result.reasons


def test_it_takes_a_twin_at_the_same_address_for_a_household_member() -> None:
    emma = PersonRecord(
        "Emma",
        "Kowalski",
        dt.date(2015, 6, 1),
        sex="female",
        phone="+14155550101",
        address_line1="17 Harbour View",
        city="Sausalito",
        postal_code="94965",
        state="CA",
    )
    olivia = variant(emma, given_name="Olivia")
    result = match_score(emma, olivia)
    assert result.score < WARNING_THRESHOLD
    assert result.household_member
    assert any("twin" in r and "household" in r for r in result.reasons)


def test_it_keeps_twins_of_different_sex_with_alike_names_below_the_threshold() -> None:
    jean = PersonRecord("Jean", "Martin", dt.date(2001, 9, 9), sex="male", phone="5550102")
    jeanne = variant(jean, given_name="Jeanne", sex="female")
    assert match_score(jean, jeanne).score < EXISTING_PATIENT_THRESHOLD


def test_it_does_not_warn_about_a_flatmate_with_other_names_and_birth_date() -> None:
    flatmate = PersonRecord(
        "Maria",
        "Lopez",
        dt.date(1990, 5, 5),
        address_line1="221 Baker St",
        city="Springfield",
        postal_code="62704",
        state="IL",
        phone="+14155550132",
    )
    assert match_score(ROBERT, flatmate).score < WARNING_THRESHOLD


def test_it_keeps_a_sibling_sharing_the_parents_phone_and_email_below_the_threshold() -> None:
    sibling = variant(ROBERT, given_name="Sean", birth_date=dt.date(1987, 11, 19))
    assert match_score(ROBERT, sibling).score < EXISTING_PATIENT_THRESHOLD


def test_it_keeps_a_parent_and_child_with_the_same_name_below_the_threshold() -> None:
    senior = variant(ROBERT, birth_date=dt.date(1956, 10, 30))
    result = match_score(ROBERT, senior)
    assert result.score < EXISTING_PATIENT_THRESHOLD
    assert any("parent and child" in r for r in result.reasons)


def test_it_scores_strangers_far_below_the_warning() -> None:
    stranger = PersonRecord("Aisha", "Rahman", dt.date(1999, 12, 31), phone="+442079460000")
    result = match_score(ROBERT, stranger)
    assert result.score < WARNING_THRESHOLD
    assert result.probability < 0.01


def test_it_gives_a_probability_that_rises_with_the_score() -> None:
    strong = match_score(ROBERT, ROBERT)
    weaker = match_score(ROBERT, variant(ROBERT, given_name="Rob", phone="", email=""))
    assert 0.999 < strong.probability <= 1.0
    assert strong.score > weaker.score
    assert strong.probability >= weaker.probability


def test_it_is_symmetric() -> None:
    other = variant(ROBERT, given_name="Bobby", family_name="Fitzgerlad", phone="")
    assert match_score(ROBERT, other).score == pytest.approx(match_score(other, ROBERT).score)


def test_it_ignores_missing_fields() -> None:
    bare = PersonRecord("Robert", "Fitzgerald", None)
    result = match_score(ROBERT, bare)
    assert result.score == pytest.approx(match_score(bare, ROBERT).score)
    assert not any("birth" in r or "phone" in r for r in result.reasons)


@pytest.mark.parametrize(
    "duplicate",
    [
        variant(ROBERT, given_name="Bob"),
        variant(ROBERT, birth_date=dt.date(1984, 7, 3)),
        variant(ROBERT, family_name="Fitzgeradl"),
        variant(ROBERT, given_name="Fitzgerald", family_name="Robert"),
        variant(ROBERT, family_name="Fitzgeradl", birth_date=dt.date(1948, 3, 7)),
        variant(ROBERT, given_name="Rbert", birth_date=dt.date(1984, 3, 8), phone=""),
        PersonRecord("Bob", "Fitzgerald", None, phone="(415) 555-0132"),
        PersonRecord(
            "Robert", "Fitzgibbon", None, address_line1="221 Baker St", postal_code="62704"
        ),
    ],
    ids=[
        "nickname",
        "day-month-swap",
        "family-typo",
        "transposed",
        "family-typo-and-year-typo",
        "given-typo-and-day-typo",
        "phone-only",
        "address-only",
    ],
)
def test_it_gives_typical_duplicates_a_shared_blocking_key(duplicate: PersonRecord) -> None:
    assert blocking_keys(ROBERT) & blocking_keys(duplicate)


def test_it_gives_unrelated_people_no_shared_blocking_key() -> None:
    stranger = PersonRecord("Aisha", "Rahman", dt.date(1999, 12, 31), phone="+442079460000")
    assert not blocking_keys(ROBERT) & blocking_keys(stranger)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("José", "jose"),
        ("Zoë", "zoe"),
        ("  Ñúñez-O'Brien ", "nunez obrien"),
        ("Müller", "muller"),
        ("Straße", "strasse"),
        ("Øyvind Ærø", "oyvind aero"),
        ("Łukasz", "lukasz"),
        ("ANNE\u2013MARIE", "anne marie"),  # en dash
        ("D\u2019Angelo", "dangelo"),  # typographic apostrophe
        ("\uff2a\uff4f\uff48\uff4e", "john"),  # full-width letters
    ],
)
def test_it_normalises_accents_case_and_punctuation(raw: str, normalised: str) -> None:
    assert normalise_name(raw) == normalised


def test_it_matches_accented_and_plain_spellings_exactly() -> None:
    accented = variant(ROBERT, given_name="Rôbert", family_name="Fitzgérald")
    result = match_score(ROBERT, accented)
    assert "same given name" in result.reasons
    assert "same family name" in result.reasons


@pytest.mark.parametrize(
    ("nickname", "formal"),
    [
        ("Bob", "robert"),
        ("Liz", "elizabeth"),
        ("Bill", "william"),
        ("Peggy", "margaret"),
        ("Jack", "john"),
        ("Dick", "richard"),
        ("Sally", "sarah"),
        ("Chris", "christopher"),
        ("Ted", "edward"),
        ("Élizabeth", "elizabeth"),
        ("Aurelio", "aurelio"),
        ("", ""),
    ],
)
def test_it_maps_a_nickname_to_its_formal_name(nickname: str, formal: str) -> None:
    assert given_name_canonical(nickname) == formal


def test_it_gives_sound_alike_names_the_same_phonetic_key() -> None:
    assert name_phonetic_key("Catherine") == name_phonetic_key("Katherine")
    assert name_phonetic_key("McArthur") == name_phonetic_key("Mc Arthur")
    assert name_phonetic_key("Zoë") == name_phonetic_key("zoe")
    assert name_phonetic_key("") == ""


def test_a_patient_who_moved_and_changed_number_is_still_caught() -> None:
    before = PersonRecord(
        given_name="Nicholas",
        family_name="Davies",
        birth_date=dt.date(1972, 4, 9),
        sex="male",
        phone="+14155550177",
        address_line1="9 Elm Rd",
        city="San Francisco",
        postal_code="94110",
        state="CA",
        email="nd@example.com",
    )
    after = PersonRecord(
        given_name="Nick",
        family_name="Davies",
        birth_date=dt.date(1972, 4, 9),
        sex="male",
        phone="+12125550199",
        address_line1="100 Main St",
        city="New York",
        postal_code="10001",
        state="NY",
        email="nick@example.org",
    )
    moved = match_score(before, after)
    # A warning, not a verdict: a namesake born the same day is possible; the officer asks.
    assert WARNING_THRESHOLD <= moved.score < EXISTING_PATIENT_THRESHOLD
    assert any("moved" in reason for reason in moved.reasons)
    stranger = dataclasses.replace(after, given_name="Peter", birth_date=dt.date(1980, 1, 1))
    assert match_score(before, stranger).score < WARNING_THRESHOLD


def test_strangers_sharing_only_a_birth_date_and_town_raise_no_warning() -> None:
    one = PersonRecord(
        given_name="Rodney",
        family_name="Walsh",
        birth_date=dt.date(1939, 4, 19),
        sex="male",
        city="Springfield",
        state="IL",
    )
    other = PersonRecord(
        given_name="Patricia",
        family_name="Salinas",
        birth_date=dt.date(1939, 4, 19),
        sex="female",
        city="Springfield",
        state="IL",
    )
    assert match_score(one, other).score < WARNING_THRESHOLD


def test_a_different_family_name_is_a_warning_never_a_verdict() -> None:
    one = PersonRecord(
        given_name="Ryan",
        family_name="Martinez",
        birth_date=dt.date(1984, 6, 2),
        sex="male",
        city="Springfield",
        postal_code="62701",
        state="IL",
    )
    other = dataclasses.replace(one, family_name="Moore", middle_name="Jeffery")
    assert match_score(one, other).score < EXISTING_PATIENT_THRESHOLD
