"""Items leave the desk queue when their cause is resolved, as the officer reads /desk/: a
callback once the patient is reached, a clinician's answer once it is relayed. Each is seen on
the queue, worked from its link, and gone from the queue on the next load."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.inquiries.models import Callback, MedicalQuestion
from frontdesk.inquiries.services import question_answer
from frontdesk.inquiries.tests.helpers import log_call

from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _desk(page: Page, personas: Personas) -> None:
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page).to_have_url(re.compile(r"/desk/$"))
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()


def test_a_callback_leaves_the_desk_queue_once_the_patient_is_reached(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic, given_name="Nora", family_name="Quinn")
    callback = Callback.objects.get(inquiry=log_call(personas.front_desk, patient))
    _desk(page, personas)
    row = page.locator(f"#item-callback-{callback.pk}")
    expect(row).to_contain_text("Call back about billing")
    expect(row).to_contain_text("Quinn, Nora")
    assert_accessible(page)

    row.get_by_role("link", name="Call back about billing", exact=True).click()
    page.get_by_label("How it went").select_option(label="Reached")
    page.get_by_role("button", name="Log the attempt").click()
    expect(page.get_by_text("Reached: the callback is done.")).to_be_visible()

    page.goto("/desk/")
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()
    expect(page.locator(f"#item-callback-{callback.pk}")).to_have_count(0)
    expect(page.get_by_text("Nothing waiting.")).to_be_visible()
    assert_accessible(page)


def test_an_answer_to_relay_leaves_the_desk_queue_once_it_is_relayed(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic, given_name="Omar", family_name="Haddad")
    inquiry = log_call(
        personas.front_desk,
        patient,
        category="medical_question",
        message="Can I take my tablets with food?",
        callback_wanted=False,
    )
    question = MedicalQuestion.objects.get(inquiry=inquiry)
    question_answer(
        context=SYSTEM_CONTEXT,
        user=personas.nurse,
        question_id=question.pk,
        answer="Yes, with food is best.",
        route="desk",
    )
    _desk(page, personas)
    row = page.locator(f"#item-answer-{inquiry.pk}")
    expect(row).to_contain_text("Relay a clinician's answer to the patient")
    expect(row).to_contain_text("Haddad, Omar")
    assert_accessible(page)

    row.get_by_role("link", name="Relay a clinician's answer to the patient", exact=True).click()
    expect(page.get_by_text("Yes, with food is best.")).to_be_visible()
    page.get_by_role("button", name="I have relayed it").click()
    expect(page.get_by_text("Relayed: the answer has reached the patient.")).to_be_visible()

    page.goto("/desk/")
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()
    expect(page.locator(f"#item-answer-{inquiry.pk}")).to_have_count(0)
    expect(page.get_by_text("Nothing waiting.")).to_be_visible()
    assert_accessible(page)
