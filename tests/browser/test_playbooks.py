"""Playbooks in the browser: a folded panel opens in place (also one fetched when opened), and the
downtime pack prints without the application's menus."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_the_desk_opens_a_playbook_where_the_situation_happens_and_prints_the_downtime_pack(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic, given_name="Adaeze", family_name="Okonkwo")
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()  # her landing page

    page.goto(f"/patients/{patient.pk}/")
    step = page.get_by_text("Speak quietly.", exact=False)
    expect(step).to_be_hidden()
    summary = page.locator('details[data-playbook="confidentiality"] > summary')
    expect(summary).to_have_text("Playbook Confidentiality at the desk")
    summary.click()
    expect(step).to_be_visible()
    assert_accessible(page)

    # The Today page's panels are fetched when opened (htmx on the panel's toggle event).
    page.goto("/flow/")
    page.wait_for_load_state()
    panel = page.locator('details[data-playbook="busy_waiting_room"]')
    panel.locator("summary").click()
    expect(panel).to_contain_text("Make sure everyone waiting is checked in.")
    assert_accessible(page)

    page.goto("/playbooks/downtime/")
    expect(page.get_by_role("heading", name="Paper check-in sheet", exact=False)).to_be_visible()
    assert_accessible(page)
    expect(page.locator(".topbar")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_text("Paper registration", exact=False).first).to_be_visible()
