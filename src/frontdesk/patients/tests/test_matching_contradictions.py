"""The scorer's contradictions, household members, wider nicknames, term frequencies,
symmetry and bad input (issue 16)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.patients.matching.records import PersonRecord, ValueFrequencies, suffix_normalise
from frontdesk.patients.matching.verdict import (
    EXISTING_PATIENT_THRESHOLD,
    WARNING_THRESHOLD,
    match_score,
)
from frontdesk.patients.nicknames import family_spellings, formal_names, spelling_key

HOME = {
    "phone": "+14155550101",
    "address_line1": "17 Harbour View",
    "city": "Sausalito",
    "postal_code": "94965",
    "state": "CA",
}

FATHER = PersonRecord(
    "Marcus", "Bellamy", dt.date(1958, 4, 12), sex="male", email="mb@example.org", **HOME
)


def variant(base: PersonRecord, **changes: object) -> PersonRecord:
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Contradictions


def test_a_jr_and_sr_with_every_other_detail_alike_are_not_taken_for_one_person() -> None:
    senior = variant(FATHER, suffix="Sr.")
    junior = variant(FATHER, suffix="Jr")

    result = match_score(senior, junior)

    assert result.score < EXISTING_PATIENT_THRESHOLD
    assert result.household_member
    assert any("generational suffixes" in r for r in result.reasons)


def test_a_suffix_typed_into_the_family_name_counts_as_the_suffix() -> None:
    result = match_score(variant(FATHER, family_name="Bellamy Jr."), variant(FATHER, suffix="III"))

    assert result.score < EXISTING_PATIENT_THRESHOLD
    assert any("generational suffixes" in r for r in result.reasons)
    assert suffix_normalise("junior") == suffix_normalise("Jr.") == "jr"
    assert suffix_normalise("3rd") == "iii"


def test_a_suffix_on_one_record_only_does_not_contradict() -> None:
    result = match_score(FATHER, variant(FATHER, suffix="Jr"))

    assert result.score >= EXISTING_PATIENT_THRESHOLD


def test_a_birth_year_decades_apart_on_the_same_day_and_month_is_a_parent_and_child() -> None:
    son = variant(FATHER, birth_date=dt.date(1987, 4, 12))  # 1958 and 1987: two digits

    result = match_score(FATHER, son)

    assert result.score < WARNING_THRESHOLD
    assert result.household_member
    assert any("same day and month, years apart" in r for r in result.reasons)


def test_a_birth_year_decades_apart_elsewhere_is_still_held_below_the_verdict() -> None:
    son = PersonRecord("Marcus", "Bellamy", dt.date(1987, 4, 12), sex="male")

    result = match_score(variant(FATHER, phone="", email=""), son)

    assert result.score < EXISTING_PATIENT_THRESHOLD
    assert not result.household_member


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        (dt.date(1959, 4, 12), "one digit"),
        (dt.date(1985, 4, 12), "neighbouring digits swapped"),
    ],
)
def test_a_birth_year_one_keystroke_off_is_still_the_existing_patient(
    typed: dt.date, why: str
) -> None:
    result = match_score(FATHER, variant(FATHER, birth_date=typed))

    assert result.score >= EXISTING_PATIENT_THRESHOLD, why
    assert "birth dates one digit apart" in result.reasons


def test_a_one_digit_year_typo_a_decade_off_is_only_a_warning() -> None:
    result = match_score(FATHER, variant(FATHER, birth_date=dt.date(1988, 4, 12)))  # 1958

    assert WARNING_THRESHOLD <= result.score < EXISTING_PATIENT_THRESHOLD
    assert any("a decade or more apart" in r for r in result.reasons)


def test_twins_with_different_given_names_are_household_members_with_the_reason() -> None:
    ana = PersonRecord("Ana", "Ruiz", dt.date(2012, 9, 3), sex="female", **HOME)
    lucia = variant(ana, given_name="Lucía")

    result = match_score(ana, lucia)

    assert result.score < WARNING_THRESHOLD
    assert result.household_member
    assert any("twin" in r for r in result.reasons)


def test_a_nickname_at_the_same_address_is_the_same_person_not_a_twin() -> None:
    pepe = PersonRecord("Pepe", "Ruiz", dt.date(1971, 9, 3), sex="male", **HOME)

    result = match_score(pepe, variant(pepe, given_name="José"))

    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert not result.household_member


def test_given_names_only_alike_at_one_address_are_a_warning_not_a_verdict() -> None:
    michael = PersonRecord("Michael", "Murray", dt.date(1997, 2, 28), sex="male", **HOME)

    result = match_score(michael, variant(michael, given_name="Mitchell"))

    assert WARNING_THRESHOLD <= result.score < EXISTING_PATIENT_THRESHOLD
    assert any("could be twins" in r for r in result.reasons)


def test_the_same_name_with_another_recorded_sex_is_a_warning_not_a_family_note() -> None:
    result = match_score(FATHER, variant(FATHER, sex="female"))

    assert WARNING_THRESHOLD <= result.score < EXISTING_PATIENT_THRESHOLD
    assert not result.household_member


def test_a_married_name_at_the_same_home_is_the_existing_patient() -> None:
    maria = PersonRecord("Maria", "Silva", dt.date(1990, 6, 1), sex="female", **HOME)

    result = match_score(maria, variant(maria, family_name="Costa"))

    assert result.score >= EXISTING_PATIENT_THRESHOLD


def test_a_married_name_after_a_move_is_a_warning() -> None:
    maria = PersonRecord("Maria", "Silva", dt.date(1990, 6, 1), sex="female", **HOME)
    moved = variant(
        maria,
        family_name="Costa",
        phone="+16505550199",
        address_line1="4 Elm Road",
        city="Fresno",
        postal_code="93650",
    )

    result = match_score(maria, moved)

    assert WARNING_THRESHOLD <= result.score < EXISTING_PATIENT_THRESHOLD


def test_a_namesake_born_the_same_day_in_the_same_town_is_never_the_verdict() -> None:
    one = PersonRecord("Wei", "Chen", dt.date(1985, 5, 5), sex="male", **HOME)
    other = variant(one, phone="+14155550999", address_line1="90 Bridgeway", email="")

    result = match_score(one, other)

    assert WARNING_THRESHOLD <= result.score < EXISTING_PATIENT_THRESHOLD
    assert any("ask whether the patient has moved" in r for r in result.reasons)


def test_a_move_with_the_same_phone_is_still_the_existing_patient() -> None:
    moved = variant(FATHER, address_line1="8 Pine Court", city="Fresno", postal_code="93650")

    assert match_score(FATHER, moved).score >= EXISTING_PATIENT_THRESHOLD


# ---------------------------------------------------------------------------------------------
# Nicknames, spellings and romanisations


@pytest.mark.parametrize(
    ("short", "formal"),
    [
        ("Pepe", "José"),  # Spanish
        ("Paco", "Francisco"),
        ("Lola", "Dolores"),
        ("Zé", "José"),  # Portuguese
        ("Bia", "Beatriz"),
        ("Manu", "Emmanuel"),  # French
        ("Hans", "Johannes"),  # German
        ("Sepp", "Josef"),
        ("Beppe", "Giuseppe"),  # Italian
        ("Gianni", "Giovanni"),
        ("Dduc", "Đức"),  # Vietnamese: đ typed as dd
        ("Hsiaoming", "Xiaoming"),  # Wade-Giles and pinyin
        ("Mohammed", "Muhammad"),  # Arabic romanisations
        ("Youssef", "Yusuf"),
        ("Laxmi", "Lakshmi"),  # Indian
        ("Kavitha", "Kavita"),
    ],
)
def test_short_forms_and_spellings_of_many_languages_meet_their_formal_name(
    short: str, formal: str
) -> None:
    one = PersonRecord(formal, "Serrano", dt.date(1975, 2, 14), phone="+14155550123")
    other = variant(one, given_name=short)

    result = match_score(one, other)

    assert result.score >= EXISTING_PATIENT_THRESHOLD
    assert any(r.startswith("nickname") for r in result.reasons)


def test_romanisations_of_a_chinese_family_name_meet() -> None:
    assert family_spellings(["cheung"]) & family_spellings(["zhang"])
    one = PersonRecord("Mei", "Zhang", dt.date(1969, 8, 8), phone="+14155550123")

    result = match_score(one, variant(one, family_name="Cheung"))

    assert result.score >= EXISTING_PATIENT_THRESHOLD


def test_the_spelling_key_joins_spellings_no_table_lists() -> None:
    assert spelling_key("mohammed") == spelling_key("muhammad")
    assert spelling_key("yusuf") == spelling_key("yousouf")
    assert formal_names("yousouf") == ("yousouf",)  # not in any table
    one = PersonRecord("Yusuf", "Demir", dt.date(1980, 3, 3))

    result = match_score(one, variant(one, given_name="Yousouf"))

    assert "given names alike (Yusuf ~ Yousouf)" in result.reasons


# ---------------------------------------------------------------------------------------------
# Term frequencies


def test_agreeing_on_a_common_name_weighs_less_than_on_a_rare_one() -> None:
    one = PersonRecord("Maria", "Garcia", dt.date(1980, 1, 1), postal_code="94965")
    other = variant(one)
    rare = ValueFrequencies(index_size=50_000, given={"maria": 1}, family={"garcia": 1})
    common = ValueFrequencies(index_size=50_000, given={"maria": 2500}, family={"garcia": 1500})

    rare_score = match_score(one, other, frequencies=rare).score
    common_result = match_score(one, other, frequencies=common)

    assert common_result.score < rare_score - 6
    assert "a common given name here" in common_result.reasons
    assert "a common family name here" in common_result.reasons


def test_a_small_index_keeps_the_average_weights() -> None:
    one = PersonRecord("Maria", "Garcia", dt.date(1980, 1, 1))
    tiny = ValueFrequencies(index_size=3, given={"maria": 2}, family={"garcia": 2})

    with_counts = match_score(one, variant(one), frequencies=tiny).score
    without = match_score(one, variant(one)).score

    assert abs(with_counts - without) < 1.0  # a bit or less, where a common name loses many


# ---------------------------------------------------------------------------------------------
# Symmetry, proven over generated records


_WORDS = st.sampled_from(
    [
        "Maria",
        "José",
        "Pepe",
        "García López",
        "de la Cruz",
        "Nguyen Van",
        "Anh",
        "Zhang",
        "Cheung",
        "Mohammed",
        "Muhammad",
        "Robert",
        "Bob",
        "Li",
        "A",
        "Jean-Pierre",
        "O'Brien",
        "Smith Jr",
        "Иван",
        "",
    ]
)
_NAMES = st.one_of(_WORDS, st.text(max_size=12), st.builds(lambda a, b: f"{a} {b}", _WORDS, _WORDS))
_DATES = st.one_of(
    st.none(),
    st.sampled_from([dt.date(1984, 2, 29), dt.date(1984, 3, 7), dt.date(1948, 3, 7)]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)),
)
_RECORDS = st.builds(
    PersonRecord,
    given_name=_NAMES,
    family_name=_NAMES,
    birth_date=_DATES,
    middle_name=st.sampled_from(["", "Ann", "Robert"]),
    sex=st.sampled_from(["", "female", "male", "unknown"]),
    phone=st.sampled_from(["", "+14155550101", "+14155550102", "5550101"]),
    address_line1=st.sampled_from(["", "17 Harbour View", "17 Harbor View", "9 Elm Rd"]),
    city=st.sampled_from(["", "Sausalito", "Fresno"]),
    postal_code=st.sampled_from(["", "94965", "93650"]),
    state=st.sampled_from(["", "CA"]),
    email=st.sampled_from(["", "a@example.org"]),
    address_line2=st.sampled_from(["", "Apt 4", "17 Harbour View"]),
    suffix=st.sampled_from(["", "Jr", "Sr", "III"]),
)


def _swapped(record: PersonRecord) -> PersonRecord:
    return variant(record, given_name=record.family_name, family_name=record.given_name)


@settings(max_examples=400, deadline=None)
@given(a=_RECORDS, b=_RECORDS, swap=st.booleans())
def test_the_score_does_not_depend_on_the_order_of_the_two_records(
    a: PersonRecord, b: PersonRecord, swap: bool
) -> None:
    if swap:
        b = _swapped(variant(a, phone=b.phone, address_line1=b.address_line1))
    frequencies = ValueFrequencies(
        index_size=20_000, given={"maria": 900}, postcode={"94965": 5000}
    )

    forward = match_score(a, b, frequencies=frequencies)
    backward = match_score(b, a, frequencies=frequencies)

    assert forward.score == backward.score
    assert forward.household_member == backward.household_member


def test_swapped_multi_word_names_score_the_same_either_way() -> None:
    one = PersonRecord("Maria José", "García López", dt.date(1979, 5, 4), phone="+14155550101")
    other = _swapped(one)

    forward, backward = match_score(one, other), match_score(other, one)

    assert forward.score == backward.score >= EXISTING_PATIENT_THRESHOLD
    assert "given and family names transposed" in forward.reasons


# ---------------------------------------------------------------------------------------------
# Bad input: scored without error


@pytest.mark.parametrize(
    ("given_name", "family_name"),
    [
        ("Иван", "Петров"),  # a script the tables do not cover
        ("王", "小明"),
        ("محمد", "حسن"),
        ("J", "K"),  # one letter
        ("A" * 200, "B" * 200),  # longer than any field holds
        ("", "Okafor"),  # no given name
        ("", ""),
    ],
)
def test_names_the_tables_do_not_cover_are_scored_without_error(
    given_name: str, family_name: str
) -> None:
    one = PersonRecord(given_name, family_name, dt.date(1984, 2, 29), phone="+14155550101")

    for other in (one, variant(one, birth_date=dt.date(1985, 2, 28)), _swapped(one)):
        result = match_score(one, other)
        assert math.isfinite(result.score)
        assert 0.0 <= result.probability <= 1.0


def test_a_married_name_after_a_move_is_not_a_warning_where_namesakes_are_expected() -> None:
    nancy = PersonRecord("Nancy", "Miller", dt.date(1969, 3, 29), sex="female", **HOME)
    moved = variant(
        nancy,
        family_name="Molina",
        phone="+16505550199",
        address_line1="4 Elm Road",
        city="Fresno",
        postal_code="93650",
    )
    small = ValueFrequencies(index_size=5_000, given={"nancy": 20}, birth_date={"19690329": 1})
    large = ValueFrequencies(
        index_size=1_000_000, given={"nancy": 5_000}, birth_date={"19690329": 37}
    )

    assert match_score(nancy, moved, frequencies=small).score >= WARNING_THRESHOLD
    assert match_score(nancy, moved, frequencies=large).score < WARNING_THRESHOLD
