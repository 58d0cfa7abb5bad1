"""The 270 as built and the 271 as read, both through pyx12's validation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from frontdesk.eligibility import x12
from frontdesk.eligibility.simulator import (
    Control,
    Member,
    Table,
    answer_271,
    question_read,
)

NOW = dt.datetime(2026, 11, 24, 4, 30, tzinfo=dt.UTC)


def inquiry(**changes: object) -> x12.Inquiry:
    base = x12.Inquiry(
        sender_id="RIVERSIDE",
        receiver_id="ACMEHEALTH",
        control_number=42,
        trace="EC0001",
        payer_name="Acme Health",
        payer_id="ACME1",
        provider_name="Riverside Family Clinic",
        provider_npi="1234567893",
        member_id="W123456789",
        last_name="Smith",
        first_name="John",
        birth_date=dt.date(1980, 1, 2),
        date_of_service=dt.date(2026, 11, 30),
        service_types=("98", "30"),
        now=NOW,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


TABLE = Table.of(
    [Member("W123456789", "SMITH", "JOHN", "19800102", copay="25.00", prior_authorisation=("98",))]
)


def test_the_270_asks_for_the_date_of_service_and_passes_pyx12() -> None:
    text = x12.inquiry_build(inquiry())

    assert "DTP*291*D8*20261130~" in text
    assert "EQ*98~" in text and "EQ*30~" in text
    assert x12.x12_validate(text) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"last_name": "O'Brien*Smith~", "first_name": "Ann:Marie^"},
        {"birth_date": None},
        {"service_types": ("30",)},
        {"member_id": "w 123-456"},
        {"payer_name": "A" * 90, "provider_name": "B" * 90},
    ],
)
def test_every_270_built_passes_pyx12_even_with_separators_typed_in_names(
    changes: dict[str, object],
) -> None:
    text = x12.inquiry_build(inquiry(**changes))

    assert x12.x12_validate(text) == []
    assert text.count("~") == len(text.splitlines())  # no separator leaked into an element


def test_pyx12_finds_a_270_with_a_wrong_date_format_invalid() -> None:
    text = x12.inquiry_build(inquiry()).replace("DTP*291*D8", "DTP*291*ZZ")

    assert any("DTP02" in finding for finding in x12.x12_validate(text))


def test_the_simulators_271_is_accepted_by_pyx12_and_read_per_service_type() -> None:
    question = question_read(x12.inquiry_build(inquiry()))
    text = answer_271(question, TABLE, Control(), now=NOW, control_no=7)

    assert x12.x12_validate(text) == []
    answer = x12.response_read(text)
    assert answer.active is True
    assert answer.trace == "EC0001"
    assert answer.plan_name == "SIMULATED PPO"
    assert answer.plan_begin == "2026-01-01"
    office = answer.benefits["98"]
    assert office.copay == "25.00"  # in network; the out-of-network 60.00 is not the co-pay
    assert office.coinsurance == "0.20"
    assert office.deductible == "1500.00"
    assert office.deductible_remaining == "300.00"
    assert office.out_of_pocket_remaining == "4200.00"
    assert office.network == "in network"
    assert office.prior_authorisation is True
    assert answer.benefits["30"].prior_authorisation is False


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("75", "Subscriber not found: check the member ID and birth date"),
        ("71", "Birth date does not match the payer's record: check the birth date"),
        ("72", "The payer says the member ID is invalid or missing: check it against the card"),
        ("42", "The payer could not answer now: try again later"),
        ("57", "The payer says the date of service is invalid or missing"),
        ("ZZ", "The payer refused the request (code ZZ)"),
    ],
)
def test_each_aaa_rejection_is_told_in_words(code: str, words: str) -> None:
    question = question_read(x12.inquiry_build(inquiry()))
    text = answer_271(question, TABLE, Control(reject=code), now=NOW, control_no=7)

    if code != "ZZ":
        assert x12.x12_validate(text) == []
    answer = x12.response_read(text)
    assert answer.active is None
    assert answer.rejections[0]["words"] == words
    assert answer.rejections[0]["follow_up"] == "correct and ask again"


def test_an_unknown_member_is_answered_subscriber_not_found() -> None:
    question = question_read(x12.inquiry_build(inquiry(member_id="W999999999")))
    answer = x12.response_read(answer_271(question, TABLE, Control(), now=NOW, control_no=1))

    assert answer.rejections[0]["code"] == "75"


def test_pyx12_refuses_a_truncated_271() -> None:
    question = question_read(x12.inquiry_build(inquiry()))
    text = answer_271(question, TABLE, Control(mode="truncated"), now=NOW, control_no=7)

    findings = x12.x12_validate(text)
    assert any("missing" in finding for finding in findings)


def test_text_that_is_not_x12_is_refused_in_words() -> None:
    assert x12.x12_validate("<html>Service unavailable</html>") == [
        "This is not an X12 interchange: it does not start with ISA."
    ]
    with pytest.raises(x12.X12Error):
        x12.response_read("ISA*00*")
