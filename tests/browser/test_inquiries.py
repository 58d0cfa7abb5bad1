"""Calls and medical questions in the browser: a call logged in at most four interactions with
the disclosure sentence shown as the caller is chosen; the emergency script shown before
anything else while a red flag is typed; a medical question routed, answered by a nurse,
relayed by the desk, and gone from the queue."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from conftest import Personas, make_patient
from frontdesk.inquiries.desk import AnswerSource, CallbackSource, QuestionSource
from frontdesk.inquiries.models import Callback, Inquiry, MedicalQuestion, PatientContact
from frontdesk.patients.models import Patient

from .conftest import TIMEOUT_MS
from .helpers import Counted, assert_accessible, sign_in

pytestmark = pytest.mark.browser

# Who is calling, what about, their words, save: the number comes from the record, or is typed
# with someone else's name and relationship on one line.
MOST_INTERACTIONS = 4


def _report(name: str, hands: Counted, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\ninteractions {name}: {hands.count}")


def _child_whose_mother_may_hear_appointments(personas: Personas) -> Patient:
    child = make_patient(personas.clinic, given_name="Lucia", family_name="Alvarez")
    PatientContact.objects.create(
        clinic=personas.clinic,
        patient=child,
        name="Maria Alvarez",
        relationship="parent",
        may_hear="appointments",
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return child


def test_a_call_from_a_patients_mother_is_logged_in_four_interactions(
    transactional_audit: None,
    personas: Personas,
    page: Page,
    capsys: pytest.CaptureFixture[str],
) -> None:
    child = _child_whose_mother_may_hear_appointments(personas)
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()  # her landing page
    page.goto(f"/patients/{child.pk}/")
    page.get_by_role("link", name="Log a call").click()
    hands = Counted()
    hands.select(page.get_by_label("Who is calling"), label="Maria Alvarez (parent of a minor)")
    expect(page.get_by_text("You may discuss appointments only")).to_be_visible()
    hands.select(page.get_by_label("About"), label="Appointment")
    hands.fill(page.get_by_label("Message (in the caller's words)"), "Can Lucia come after 3?")
    expect(page.get_by_label("Call back on")).to_have_value(child.phone)
    assert_accessible(page)
    hands.click(page.get_by_role("button", name="Log the call"))
    expect(page.get_by_text("The call is logged.")).to_be_visible()
    expect(page.get_by_text("You may discuss appointments only")).to_be_visible()
    assert_accessible(page)
    _report("call from a contact", hands, capsys)
    assert hands.count <= MOST_INTERACTIONS
    inquiry = Inquiry.objects.get()
    assert (inquiry.caller_name, inquiry.disclosure) == ("Maria Alvarez", "appointments")
    callback = Callback.objects.get(inquiry=inquiry)
    assert [
        r["ref"] for r in CallbackSource().rows(clinic_id=personas.clinic.pk, now=timezone.now())
    ] == [callback.pk]


def test_a_call_from_someone_who_is_not_a_registered_patient_takes_four_interactions(
    transactional_audit: None,
    personas: Personas,
    page: Page,
    capsys: pytest.CaptureFixture[str],
) -> None:
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    page.goto("/inquiries/calls/new/")
    hands = Counted()
    # Name, relationship and number on one line: they go into their fields as she moves on,
    # and a typed name says it is someone else calling.
    hands.fill(page.get_by_label("Caller's name"), "Maria Alvarez, neighbour, (202) 555-0143")
    hands.select(page.get_by_label("About"), label="Other")
    expect(page.get_by_label("Caller's name")).to_have_value("Maria Alvarez")
    expect(page.get_by_label("Relationship to the patient")).to_have_value("neighbour")
    expect(page.get_by_label("Call back on")).to_have_value("(202) 555-0143")
    expect(page.get_by_label("Who is calling")).to_have_value("other")
    hands.fill(page.get_by_label("Message (in the caller's words)"), "Is there parking on site?")
    assert_accessible(page)
    hands.click(page.get_by_role("button", name="Log the call"))
    expect(page.get_by_text("The call is logged.")).to_be_visible()
    _report("call from someone not registered", hands, capsys)
    assert hands.count <= MOST_INTERACTIONS
    inquiry = Inquiry.objects.get()
    assert (inquiry.patient, inquiry.caller_kind, inquiry.caller_name) == (
        None,
        "other",
        "Maria Alvarez",
    )
    assert inquiry.caller_relationship == "neighbour"
    assert Callback.objects.get(inquiry=inquiry).phone == "+12025550143"


def test_a_call_about_a_patient_from_someone_not_on_their_list_takes_four_interactions(
    transactional_audit: None,
    personas: Personas,
    page: Page,
    capsys: pytest.CaptureFixture[str],
) -> None:
    patient = make_patient(personas.clinic, given_name="Ivo", family_name="Marsh")
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    page.goto(f"/inquiries/calls/new/?patient={patient.pk}")
    hands = Counted()
    hands.fill(page.get_by_label("Caller's name"), "Tom Reyes, neighbour, 202 555 0188")
    hands.select(page.get_by_label("About"), label="Appointment")
    expect(page.get_by_text("Do not disclose: not an authorised contact")).to_be_visible()
    expect(page.get_by_label("Call back on")).to_have_value("202 555 0188")
    hands.fill(page.get_by_label("Message (in the caller's words)"), "Is Ivo's visit still on?")
    assert_accessible(page)
    hands.click(page.get_by_role("button", name="Log the call"))
    expect(page.get_by_text("The call is logged.")).to_be_visible()
    _report("call about a patient from someone else", hands, capsys)
    assert hands.count <= MOST_INTERACTIONS
    inquiry = Inquiry.objects.get()
    assert (inquiry.caller_kind, inquiry.disclosure, inquiry.callback_phone) == (
        "other",
        "nothing",
        "+12025550188",
    )


def test_a_stranger_asking_about_a_patient_is_told_plainly_not_to_disclose(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic, given_name="Ivo", family_name="Marsh")
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    page.goto(f"/inquiries/calls/new/?patient={patient.pk}")
    page.get_by_label("Who is calling").select_option(
        label="Someone else (not on the patient's list)"
    )
    expect(page.get_by_text("Do not disclose: not an authorised contact")).to_be_visible()
    assert_accessible(page)


def test_a_red_flag_shows_the_emergency_script_before_anything_else_as_it_is_typed(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    patient = make_patient(personas.clinic, given_name="Ken", family_name="Ito")
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    page.goto(f"/inquiries/calls/new/?patient={patient.pk}")
    page.get_by_label("About").select_option(label="Medical question")
    page.get_by_label("Message (in the caller's words)").fill(
        "his FACE is DROOPING and speech slurred"
    )
    warning = page.get_by_role("heading", name=re.compile("Possible emergency"))
    expect(warning).to_be_visible()
    # The script stands above the form: the first thing the officer reads.
    script_top = warning.bounding_box()
    form_top = page.get_by_label("Who is calling").bounding_box()
    assert script_top is not None and form_top is not None
    assert script_top["y"] < form_top["y"]
    expect(page.locator('details[data-playbook="emergency"]')).to_have_attribute("open", "")
    assert_accessible(page)


def test_a_medical_question_is_routed_answered_by_a_nurse_relayed_and_leaves_the_queue(
    transactional_audit: None,
    personas: Personas,
    page: Page,
    browser: Browser,
    live_server: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    patient = make_patient(personas.clinic, given_name="Rosa", family_name="Diaz")
    clinic = personas.clinic.pk
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    page.goto(f"/inquiries/calls/new/?patient={patient.pk}")
    hands = Counted()
    hands.select(page.get_by_label("Who is calling"), label="The patient")
    hands.select(page.get_by_label("About"), label="Medical question")
    hands.fill(
        page.get_by_label("Message (in the caller's words)"),
        "Can I take ibuprofen with my blood pressure tablets?",
    )
    hands.click(page.get_by_role("button", name="Log the call"))
    _report("medical question", hands, capsys)
    assert hands.count <= MOST_INTERACTIONS
    expect(page.get_by_role("link", name=re.compile("with Nurse triage"))).to_be_visible()
    question = MedicalQuestion.objects.get()
    assert [r["ref"] for r in QuestionSource().rows(clinic_id=clinic, now=timezone.now())] == [
        question.pk
    ]

    nurse_context = browser.new_context(base_url=str(live_server), locale="en-US")
    nurse_context.set_default_timeout(TIMEOUT_MS)
    nurse = nurse_context.new_page()
    nurse.goto("/accounts/login/")
    sign_in(nurse, personas.nurse)
    nurse.get_by_role("link", name="Questions").click()
    expect(nurse.get_by_role("heading", name="Medical questions waiting")).to_be_visible()
    assert_accessible(nurse)
    nurse.get_by_role("link", name=re.compile(r"\d{2}:\d{2}")).first.click()
    nurse.get_by_label("Answer").fill("Paracetamol is safer with your tablets; avoid ibuprofen.")
    nurse.get_by_label("How it reaches the patient").select_option(
        label="The desk reads it to the patient"
    )
    assert_accessible(nurse)
    nurse.get_by_role("button", name="Save the answer").click()
    expect(nurse.get_by_text("Answered.")).to_be_visible()
    nurse_context.close()
    assert list(QuestionSource().rows(clinic_id=clinic, now=timezone.now())) == []
    (relay,) = AnswerSource().rows(clinic_id=clinic, now=timezone.now())

    entry = AnswerSource().describe([relay["ref"]], now=timezone.now())[relay["ref"]]
    page.goto(entry.url)
    expect(page.get_by_text("avoid ibuprofen")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="I have relayed it").click()
    expect(page.get_by_text("Relayed: the answer has reached the patient.")).to_be_visible()
    assert list(AnswerSource().rows(clinic_id=clinic, now=timezone.now())) == []
    # The thread is one record on the chart.
    page.goto(f"/patients/{patient.pk}/")
    expect(page.get_by_text(re.compile("relayed"))).to_be_visible()
    assert_accessible(page)


def test_a_call_page_come_back_to_shows_its_disclosure_and_emergency_script_again(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    """Back from the chart to a half-typed call, the browser puts back the caller and the words;
    the sentence and the script that went with them come back too."""
    child = _child_whose_mother_may_hear_appointments(personas)
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()
    page.goto(f"/inquiries/calls/new/?patient={child.pk}")
    page.wait_for_load_state()
    page.get_by_label("Who is calling").select_option(label="Maria Alvarez (parent of a minor)")
    sentence = page.locator("#disclosure")
    expect(sentence).to_contain_text("You may discuss appointments only")
    page.get_by_label("Message (in the caller's words)").fill("Lucia has chest pain")
    script = page.locator("#red-flag")
    expect(script).to_contain_text("Possible emergency")

    page.get_by_role("link", name="Alvarez, Lucia").click()
    expect(page).to_have_url(re.compile(rf"/patients/{child.pk}/$"))
    page.go_back()
    page.wait_for_load_state()
    expect(page.get_by_label("Who is calling")).to_have_value(re.compile(r"^contact:"))
    expect(page.get_by_label("Message (in the caller's words)")).to_have_value(
        "Lucia has chest pain"
    )
    expect(sentence).to_contain_text("You may discuss appointments only")
    expect(script).to_contain_text("Possible emergency")
