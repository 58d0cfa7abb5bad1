"""An idle session warns a minute ahead and ends after 15 minutes, in the page and on the server.

Time is moved, never slept through: Playwright's clock drives the page's timers and
time_machine drives the server (it patches time for the whole process, so the live server's
thread too). Both start at the same instant and are moved forward together.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.contrib.sessions.models import Session
from playwright.sync_api import Page, expect

from conftest import Personas

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def traveller() -> Iterator[time_machine.Coordinates]:
    """Server time starts at the real present and ticks on; tests shift it forward."""
    start = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    with time_machine.travel(start, tick=True) as coordinates:
        yield coordinates


def _sign_in_with_page_clock(page: Page, personas: Personas) -> None:
    page.clock.install(time=dt.datetime.now(tz=dt.UTC))  # server's (travelled) present
    page.goto("/accounts/login/")
    assert_accessible(page)
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()  # her landing page
    page.wait_for_load_state()  # app.js (deferred) has started the idle timer
    assert_accessible(page)


def _advance(page: Page, traveller: time_machine.Coordinates, **step: float) -> None:
    """Moves the server's clock, then the page's, by the same amount (a timedelta's keywords):
    the server first, so a request the page makes on the jump meets the server's new time."""
    delta = dt.timedelta(**step)
    traveller.shift(delta)
    page.clock.fast_forward(int(delta.total_seconds() * 1000))


@pytest.mark.parametrize("press_with", ["mouse", "keyboard"])
def test_it_warns_a_minute_before_the_idle_sign_out_and_stay_signed_in_keeps_the_session(
    press_with: str,
    transactional_audit: None,
    personas: Personas,
    page: Page,
    traveller: time_machine.Coordinates,
) -> None:
    _sign_in_with_page_clock(page, personas)
    warning = page.get_by_role("dialog", name="Still there?")

    _advance(page, traveller, minutes=13, seconds=50)
    expect(warning).to_be_hidden()

    _advance(page, traveller, seconds=15)  # 14:05 idle: 55 seconds left
    expect(warning).to_be_visible()
    expect(page.locator("#idle-countdown")).to_have_text(re.compile(r"^5\d$"))
    stay = warning.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    assert_accessible(page)

    pings: list[int] = []
    page.on(
        "response",
        lambda response: (
            pings.append(response.status) if "/session/ping/" in response.url else None
        ),
    )
    with page.expect_response(re.compile(r"/accounts/session/ping/$")) as ping:
        if press_with == "mouse":
            stay.click()
        else:
            page.keyboard.press("Enter")  # the button has the focus
    assert ping.value.status == 204
    expect(warning).to_be_hidden()

    # Ten more quiet minutes: 24 since sign-in, but only 10 since "Stay signed in".
    _advance(page, traveller, minutes=10)
    expect(warning).to_be_hidden()
    page.goto("/patients/")
    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    assert_accessible(page)
    assert pings == [204], "Stay signed in should tell the server exactly once"


def test_it_signs_out_after_fifteen_idle_minutes_in_the_page_and_on_the_server(
    transactional_audit: None,
    personas: Personas,
    page: Page,
    traveller: time_machine.Coordinates,
) -> None:
    _sign_in_with_page_clock(page, personas)
    page.goto("/patients/")
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    page.wait_for_load_state()
    assert_accessible(page)
    (session_cookie,) = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    assert Session.objects.filter(session_key=session_cookie["value"]).exists()

    warning = page.get_by_role("dialog", name="Still there?")
    _advance(page, traveller, minutes=14, seconds=5)
    expect(warning).to_be_visible()

    _advance(page, traveller, minutes=1)  # 15:05 idle

    expect(page).to_have_url(re.compile(r"/accounts/login/\?timed_out=1&"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "You were signed out after 15 minutes without activity"
    )
    assert_accessible(page)
    assert not Session.objects.filter(session_key=session_cookie["value"]).exists()

    page.goto("/patients/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/patients/$"))
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)


def test_it_warns_a_minute_before_the_servers_deadline_when_the_last_keystroke_sent_nothing(
    transactional_audit: None,
    personas: Personas,
    page: Page,
    traveller: time_machine.Coordinates,
) -> None:
    """Typing tells the server at most once a minute, so the page's warning must count from
    what the server last heard, or its countdown promises time the server will not give."""
    _sign_in_with_page_clock(page, personas)
    _advance(page, traveller, seconds=30)
    page.get_by_role("searchbox", name="Search patients").press_sequentially("Ok")

    _advance(page, traveller, minutes=13, seconds=35)  # the server last heard 14:05 ago
    warning = page.get_by_role("dialog", name="Still there?")
    expect(warning).to_be_visible()
    countdown = page.locator("#idle-countdown")
    expect(countdown).to_have_text(re.compile(r"^5\d$"))

    _advance(page, traveller, seconds=int(countdown.inner_text()) - 5)  # 5 seconds to spare
    expect(warning).to_be_visible()
    with page.expect_response(re.compile(r"/accounts/session/ping/$")) as ping:
        warning.get_by_role("button", name="Stay signed in").click()
    assert ping.value.status == 204
    expect(warning).to_be_hidden()

    page.goto("/patients/")
    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()


def test_it_goes_to_sign_in_when_stay_signed_in_finds_the_session_already_ended(
    transactional_audit: None,
    personas: Personas,
    page: Page,
    traveller: time_machine.Coordinates,
) -> None:
    _sign_in_with_page_clock(page, personas)
    # A page with no live part: the desk queue's own once-a-minute refresh would find the
    # ended session first and reload into sign-in (tested below), before the button is pressed.
    page.goto("/patients/")
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    page.wait_for_load_state()
    other_tab = page.context.new_page()
    other_tab.goto("/")
    other_tab.get_by_role("button", name="Sign out").click()
    expect(other_tab.get_by_role("heading", name="Sign in")).to_be_visible()

    _advance(page, traveller, minutes=14, seconds=5)
    warning = page.get_by_role("dialog", name="Still there?")
    expect(warning).to_be_visible()
    warning.get_by_role("button", name="Stay signed in").click()

    # Back to the page she was on once signed in again.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fpatients%2F$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("without activity")).to_have_count(0)  # not a time-out
    assert_accessible(page)


def test_the_desk_queue_goes_to_sign_in_when_its_refresh_finds_the_session_ended(
    transactional_audit: None,
    personas: Personas,
    page: Page,
    traveller: time_machine.Coordinates,
) -> None:
    """Signed out in another tab, the desk queue left open says so at its next refresh (at
    most a minute later) instead of showing a list that can no longer be acted on."""
    _sign_in_with_page_clock(page, personas)
    other_tab = page.context.new_page()
    other_tab.goto("/")
    other_tab.get_by_role("button", name="Sign out").click()
    expect(other_tab.get_by_role("heading", name="Sign in")).to_be_visible()

    _advance(page, traveller, minutes=1, seconds=1)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/desk/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("without activity")).to_have_count(0)  # not a time-out
