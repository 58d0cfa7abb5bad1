"""An emergency registered at the desk reaches a nurse's open page, whatever page it is, without
a reload, with sound; the nurse's "I am going" clears it and the desk sees who is going."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from conftest import Personas

from .conftest import TIMEOUT_MS
from .helpers import assert_accessible, sign_in
from .test_flow import TONE_COUNTER

pytestmark = pytest.mark.browser


def test_a_nurses_open_page_shows_the_desks_emergency_without_a_reload_until_acknowledged(
    transactional_audit: None, personas: Personas, browser: Browser, live_server: object
) -> None:
    nurse_context = browser.new_context(base_url=str(live_server), locale="en-US")
    desk_context = browser.new_context(base_url=str(live_server), locale="en-US")
    for context in (nurse_context, desk_context):
        context.set_default_timeout(TIMEOUT_MS)
    nurse_context.add_init_script(TONE_COUNTER)
    try:
        nurse = nurse_context.new_page()
        nurse.goto("/accounts/login/?next=/patients/")
        sign_in(nurse, personas.nurse)
        expect(nurse.get_by_role("heading", level=1)).to_be_visible()
        expect(nurse.get_by_role("alert")).to_have_count(0)
        nurse.evaluate("window.__stillTheSamePage = true")

        desk = desk_context.new_page()
        desk.goto("/accounts/login/?next=/flow/walk-in/")
        sign_in(desk, personas.front_desk)
        desk.get_by_label("Given (first) name").fill("Walter")
        desk.get_by_label("Family (last) name").fill("Inman")
        desk.get_by_label("Birth date").fill("03/14/1985")
        desk.get_by_label("Priority").select_option("emergency")
        desk.get_by_label("Why urgent or emergency").fill("Chest pain, short of breath")
        desk.get_by_role("button", name="Register and queue").click()
        expect(desk.get_by_role("status").first).to_contain_text("Clinician alerted")
        expect(desk.get_by_text("Give no waiting time", exact=False).first).to_be_visible()
        expect(desk.locator('details[data-playbook="emergency"][open]')).to_be_visible()

        alert = nurse.get_by_role("alert")
        expect(alert).to_contain_text("Emergency at the desk · ticket W-001")
        expect(alert).to_contain_text("Chest pain, short of breath")
        assert nurse.evaluate("window.__stillTheSamePage") is True
        # Played as the alert was shown (the test's stand-in for Web Audio needs no gesture).
        assert nurse.evaluate("window.__tones") == 1
        assert_accessible(nurse)

        nurse.get_by_role("button", name="Acknowledge: I am going").click()
        expect(nurse.get_by_role("status").first).to_contain_text("You are going to emergency")
        expect(nurse.get_by_role("alert")).to_have_count(0)
        assert nurse.url.endswith("/patients/")

        expect(desk.locator(".emergency-acknowledged")).to_contain_text(
            "Nora acknowledged at", timeout=TIMEOUT_MS
        )
        expect(desk.get_by_role("alert")).to_have_count(0)
    finally:
        nurse_context.close()
        desk_context.close()
