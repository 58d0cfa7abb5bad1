"""A front-desk officer's everyday path: sign in, find a patient, open the chart, sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_it_finds_a_patient_from_the_search_box_opens_the_chart_and_signs_out(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic, given_name="Adaeze", family_name="Okonkwo")
    make_patient(personas.clinic, given_name="Mary", family_name="Jones")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)

    sign_in(page, personas.front_desk)
    # Asked for the start page (next=/), she gets it rather than her desk queue.
    expect(page.get_by_role("heading", name="Good to see you, Alice")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))
    assert_accessible(page)

    page.wait_for_load_state()  # app.js (deferred) handles the "/" shortcut
    page.keyboard.press("/")
    search_box = page.get_by_role("searchbox", name="Search patients")
    expect(search_box).to_be_focused()
    page.keyboard.type("Okonkwo")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/patients/\?q=Okonkwo$"))
    results = page.get_by_role("table", name="Patients matching “Okonkwo”")
    row = results.get_by_role("row").filter(has_text="Okonkwo, Adaeze")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(patient.mrn)
    expect(results).not_to_contain_text("Jones")
    assert_accessible(page)

    row.get_by_role("link", name="Okonkwo, Adaeze").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Okonkwo, Adaeze")
    expect(page.get_by_text(patient.mrn)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?signed_out=1$"))
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    assert_accessible(page)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)
