"""An administrator adds a member of staff, who signs in with the temporary password."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.clinic.models import Location

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "seven quiet herons by the river"


def test_an_added_member_signs_in_with_the_temporary_password_and_must_change_it(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    Location.objects.create(clinic=personas.clinic, name="Northside")
    device = TOTPDevice.objects.create(user=personas.admin, name="Phone", confirmed=True)
    page.goto("/accounts/login/")
    sign_in(page, personas.admin)
    page.get_by_label("Code").fill(f"{TOTP(device.bin_key).token():06d}")
    page.get_by_role("button", name="Continue").click()

    # Staff administration sits in the bar's Settings menu.
    page.get_by_role("navigation", name="Main").get_by_text("Settings", exact=True).click()
    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("heading", name="Staff")).to_be_visible()
    expect(page.get_by_role("cell", name="nora", exact=True)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Add a member of staff").click()
    assert_accessible(page)
    page.get_by_role("button", name="Add this member of staff").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    assert_accessible(page)  # with the errors shown
    page.get_by_label("First name").fill("Tess")
    page.get_by_label("Last name").fill("Ward")
    page.get_by_label("Username").fill("tess")
    page.get_by_label("Role").select_option(label="Nurse / medical assistant")
    page.get_by_label("Location").select_option(label="Northside")
    page.get_by_label("A temporary password").check()
    page.get_by_role("button", name="Add this member of staff").click()

    expect(page.get_by_role("heading", name="Tess Ward")).to_be_visible()
    expect(page.get_by_text("Added Tess Ward as Nurse / medical assistant.")).to_be_visible()
    temporary = page.locator("#temporary-password code").inner_text().strip()
    assert re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}", temporary)
    assert_accessible(page)

    page.get_by_role("link", name="Lock", exact=True).click()
    expect(page.get_by_role("heading", name="Lock Tess Ward's account?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Tess Ward")).to_be_visible()
    expect(page.locator("#temporary-password")).to_have_count(0)  # shown once only

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, User.objects.get(username="tess"), temporary)
    expect(page).to_have_url(re.compile(r"/accounts/password/$"))
    expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    assert_accessible(page)
    page.goto("/patients/")  # nothing else opens until the password is changed
    expect(page).to_have_url(re.compile(r"/accounts/password/$"))

    page.get_by_label("Current password").fill(temporary)
    page.get_by_label(re.compile(r"^New password(?! again)")).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save my new password").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    tess = User.objects.get(username="tess")
    assert tess.check_password(NEW_PASSWORD) and not tess.must_change_password
