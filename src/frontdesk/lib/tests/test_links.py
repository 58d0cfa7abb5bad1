from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from frontdesk.lib.links import (
    LinkExpiredError,
    LinkInvalidError,
    make_token,
    read_token,
)

NOW = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)


def test_a_token_reads_back_its_id_for_the_same_purpose() -> None:
    token = make_token("appointment", 42)

    assert read_token("appointment", token, 3600) == 42


def test_a_token_made_for_one_purpose_is_refused_for_another() -> None:
    token = make_token("appointment", 42)

    with pytest.raises(LinkInvalidError):
        read_token("waitlist-offer", token, 3600)


def test_an_altered_token_is_refused_as_invalid() -> None:
    token = make_token("appointment", 42)
    forged = make_token("appointment", 43).split(":")[0] + ":" + token.split(":", 1)[1]

    with pytest.raises(LinkInvalidError):
        read_token("appointment", forged, 3600)
    with pytest.raises(LinkInvalidError):
        read_token("appointment", token[:-2], 3600)
    with pytest.raises(LinkInvalidError):
        read_token("appointment", "not a token at all", 3600)


def test_an_old_token_is_refused_as_expired_not_as_invalid() -> None:
    with time_machine.travel(NOW, tick=False):
        token = make_token("appointment", 42)
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        assert read_token("appointment", token, dt.timedelta(hours=3)) == 42
        with pytest.raises(LinkExpiredError):
            read_token("appointment", token, dt.timedelta(hours=1))


def test_the_default_maximum_age_comes_from_settings(settings: object) -> None:
    settings.PATIENT_LINK_MAX_AGE = dt.timedelta(hours=1)  # type: ignore[attr-defined]
    with time_machine.travel(NOW, tick=False):
        token = make_token("appointment", 7)
    with time_machine.travel(NOW + dt.timedelta(minutes=59), tick=False):
        assert read_token("appointment", token) == 7
    with (
        time_machine.travel(NOW + dt.timedelta(minutes=61), tick=False),
        pytest.raises(LinkExpiredError),
    ):
        read_token("appointment", token)
