"""Signing in: a wait after repeated bad passwords; a supervisor's first two-step set-up."""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from conftest import Personas

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser

WRONG_PASSWORD = "not the right password at all"


def test_it_makes_a_username_wait_after_five_bad_passwords_even_with_the_right_one(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    alice = personas.front_desk
    page.goto("/accounts/login/")
    for attempt in range(1, 5):
        sign_in(page, alice, WRONG_PASSWORD)
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("That username and password do not match")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        if attempt == 1:
            assert_accessible(page)

    # The fifth failure reaches the threshold: the username waits a minute from this address.
    sign_in(page, alice, WRONG_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("Too many attempts: try again in 1 minute.")
    expect(page.get_by_label("Username")).to_have_value(alice.username)
    assert_accessible(page)

    with page.expect_response(re.compile(r"/accounts/login/$")) as sixth:
        sign_in(page, alice)  # the right password
    assert sixth.value.status == 429
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Too many attempts: try again in 1 minute.")
    assert_accessible(page)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    assert_accessible(page)


def test_it_walks_a_supervisor_through_two_step_set_up_at_first_sign_in(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    page.goto("/accounts/login/")
    assert_accessible(page)
    sign_in(page, personas.supervisor)

    expect(page).to_have_url(re.compile(r"/accounts/two-factor/$"))
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    assert_accessible(page)

    # What a person would type into an authenticator app by hand.
    secret = page.locator("#totp-secret").inner_text().strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    code = f"{TOTP(key).token():06d}"
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Turn on two-step sign-in").click()

    expect(page).to_have_url(re.compile(r"/accounts/two-factor/recovery-codes/$"))
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    assert all(re.fullmatch(r"[a-z0-9]{6,}", text.strip()) for text in codes.all_inner_texts())
    assert_accessible(page)

    page.get_by_role("link", name="I have saved them").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Good to see you, Sue")).to_be_visible()
    assert_accessible(page)
