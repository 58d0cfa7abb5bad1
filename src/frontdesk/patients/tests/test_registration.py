from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import AuditContext
from frontdesk.patients import services
from frontdesk.patients.forms import RegistrationForm
from frontdesk.patients.models import Patient, PatientAlias
from frontdesk.patients.mrn import mrn_is_valid

URL = "/patients/register/"


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "given_name": "Maria",
        "middle_name": "",
        "family_name": "Gonzalez",
        "birth_date": "03/14/1985",
        "sex": "female",
        "phone": "(415) 555-0132",
        "phone_kind": "mobile",
        "email": "maria@example.org",
        "address_line1": "12 Mission St",
        "city": "San Francisco",
        "state": "CA",
        "postal_code": "94105",
        "country": "US",
        "preferred_language": "Spanish",
        "interpreter_needed": "on",
        "preferred_contact": "sms",
        "consent_sms": "on",
        "guarantor_relationship": "self",
        "confidentiality": "normal",
        "alerts": ["wheelchair"],
    }
    data.update(overrides)
    return data


@pytest.fixture
def desk(personas: Personas, client_for: Callable[[User], Client]) -> Client:
    return client_for(personas.front_desk)


def test_the_search_box_text_prefills_the_registration_form(desk: Client) -> None:
    html = desk.get(URL, {"q": "gonzalez maria"}).content.decode()
    assert 'value="gonzalez"' in html and 'value="maria"' in html


def test_review_reads_back_the_critical_fields_before_anything_is_saved(desk: Client) -> None:
    response = desk.post(URL, {**_form(), "step": "review"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "G-O-N-Z-A-L-E-Z" in html
    assert "Thursday, the fourteenth of March, nineteen eighty-five" in html
    assert "415  555  0132" in html
    assert not Patient.objects.exists()


def test_confirming_registers_the_patient_with_a_valid_mrn_and_audits_it(
    desk: Client, personas: Personas
) -> None:
    response = desk.post(URL, {**_form(previous_family_name="Ruiz"), "step": "confirm"})
    patient = Patient.objects.get()
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert mrn_is_valid(patient.mrn)
    assert patient.phone == "+14155550132"
    assert patient.birth_date == dt.date(1985, 3, 14)
    assert patient.alerts == ["wheelchair"] and patient.interpreter_needed
    assert patient.clinic == personas.clinic
    assert patient.family_key and patient.given_key
    assert PatientAlias.objects.get(patient=patient).family_name == "Ruiz"
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="patient")
    assert event.patient_ids == [patient.pk]
    chart = desk.get(response["Location"]).content.decode()
    assert patient.mrn in chart and "Uses a wheelchair" in chart


def test_a_failed_save_keeps_everything_typed_with_field_messages(desk: Client) -> None:
    response = desk.post(URL, {**_form(birth_date="13/45/1985", phone="555"), "step": "review"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Type the date as MM/DD/YYYY" in html
    assert "phone number" in html
    for kept in (
        'value="Maria"',
        'value="Gonzalez"',
        'value="12 Mission St"',
        'value="13/45/1985"',
    ):
        assert kept in html
    assert not Patient.objects.exists()


def test_the_new_registration_form_chooses_no_fact_about_the_patient(desk: Client) -> None:
    html = desk.get(URL).content.decode()
    for name in ("sex", "phone_kind", "preferred_contact", "guarantor_relationship"):
        select = html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
        assert '<option value="" selected>— choose —</option>' in select, name
        assert select.count("selected") == 1, name


def test_it_asks_for_each_unchosen_fact_and_keeps_everything_typed(desk: Client) -> None:
    unchosen = {"sex": "", "phone_kind": "", "preferred_contact": "", "guarantor_relationship": ""}
    response = desk.post(URL, {**_form(**unchosen), "step": "review"})
    assert response.status_code == 400
    html = response.content.decode()
    for message in (
        "Choose the patient&#x27;s sex",
        "Say what kind of phone the main number is.",
        "Choose how the patient prefers to be contacted.",
        "Choose who pays for the patient&#x27;s care.",
    ):
        assert message in html
    for kept in (
        'value="Maria"',
        'value="Gonzalez"',
        'value="12 Mission St"',
        'value="03/14/1985"',
    ):
        assert kept in html
    assert not Patient.objects.exists()


def test_a_patient_without_a_phone_needs_no_phone_kind(desk: Client) -> None:
    data = _form(phone="", phone_kind="", preferred_contact="mail")
    response = desk.post(URL, {**data, "step": "confirm"})
    assert response.status_code == 302
    assert Patient.objects.get().phone == ""


def test_change_something_returns_to_the_form_with_the_values(desk: Client) -> None:
    html = desk.post(URL, {**_form(), "step": "edit"}).content.decode()
    assert 'value="Gonzalez"' in html and "Review and read back" in html


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"consent_sms": ""}, "Texts need the patient"),
        ({"preferred_contact": "email", "email": ""}, "Type the email address"),
        ({"guarantor_relationship": "parent"}, "name of the person who pays"),
        ({"postal_code": "9410"}, "does not fit US"),
        ({"email": "maria@"}, "email address is not complete"),
        ({"birth_date": "01/01/2090"}, "in the future"),
        ({"given_name": "M4ria"}, "letters, spaces"),
    ],
)
def test_each_rule_gets_a_plain_message(
    desk: Client, overrides: dict[str, str], field_message: str
) -> None:
    response = desk.post(URL, {**_form(**overrides), "step": "review"})
    assert response.status_code == 400
    assert field_message in response.content.decode()


class TestDuplicatePrevention:
    @pytest.fixture
    def existing(self, personas: Personas) -> Patient:
        return make_patient(
            personas.clinic,
            given_name="Robert",
            family_name="Johnson",
            birth_date=dt.date(1972, 4, 9),
            phone="+14155550177",
            address_line1="9 Elm Rd",
            postal_code="94110",
        )

    def _typo_and_swapped(self) -> dict[str, Any]:
        # Nickname, one typo in the family name, day and month swapped, same phone.
        return _form(
            given_name="Bob",
            family_name="Jonhson",
            sex="male",
            birth_date="09/04/1972",
            phone="415-555-0177",
            address_line1="9 Elm Rd",
            postal_code="94110",
        )

    def test_the_review_warns_about_the_existing_patient(
        self, desk: Client, existing: Patient
    ) -> None:
        html = desk.post(URL, {**self._typo_and_swapped(), "step": "review"}).content.decode()
        assert "This looks like a patient we already have" in html
        assert existing.mrn in html
        assert AuditEvent.objects.filter(
            object_type="duplicate_check", patient_ids=[existing.pk]
        ).exists()

    def test_saving_without_a_decision_is_refused(self, desk: Client, existing: Patient) -> None:
        response = desk.post(URL, {**self._typo_and_swapped(), "step": "confirm"})
        assert response.status_code == 409
        assert "say why this is a different person" in response.content.decode()
        assert Patient.objects.count() == 1

    def test_choosing_the_existing_patient_opens_it_and_makes_no_record(
        self, desk: Client, existing: Patient
    ) -> None:
        response = desk.post(URL, {**self._typo_and_swapped(), "existing_id": existing.pk})
        assert response["Location"] == f"/patients/{existing.pk}/"
        assert Patient.objects.count() == 1
        event = AuditEvent.objects.get(object_type="duplicate_decision")
        assert event.detail["decision"] == "existing_patient"

    def test_an_override_with_a_reason_registers_and_records_the_reason(
        self, desk: Client, existing: Patient
    ) -> None:
        response = desk.post(
            URL,
            {
                **self._typo_and_swapped(),
                "step": "confirm",
                "override_reason": "Checked driver's licence: father and son",
            },
        )
        assert response.status_code == 302
        assert Patient.objects.count() == 2
        event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="patient")
        assert (
            event.detail["duplicate_override_reason"] == "Checked driver's licence: father and son"
        )
        assert existing.pk in event.patient_ids

    def test_a_different_person_is_registered_without_a_warning(
        self, desk: Client, existing: Patient
    ) -> None:
        response = desk.post(URL, {**_form(), "step": "confirm"})
        assert response.status_code == 302
        assert Patient.objects.count() == 2


def _readback_rows(html: str) -> dict[str, str]:
    table = html[html.index("Critical details") : html.index("</table>")]
    return {
        label: " ".join(re.sub(r"<[^>]+>", " ", cells).split())
        for label, cells in re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', table, re.S)
    }


def test_the_read_back_shows_the_address_field_by_field(desk: Client) -> None:
    rows = _readback_rows(desk.post(URL, {**_form(), "step": "review"}).content.decode())
    assert rows["Address"] == "12 Mission St 12 Mission St"
    assert rows["City / town"] == "San Francisco San Francisco"
    assert rows["State / region"] == "CA CA"
    assert rows["Postal code"] == "94105 9-4-1-0-5"


ONE_LINE = {"address_line1": "40 Valencia St, San Francisco, CA 94103", "city": ""}
ONE_LINE |= {"state": "", "postal_code": ""}


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def test_an_address_typed_on_one_line_is_read_back_split_into_its_fields(
    desk: Client,
) -> None:
    html = desk.post(URL, {**_form(**ONE_LINE), "step": "review"}).content.decode()
    rows = _readback_rows(html)
    assert rows["Address"] == "40 Valencia St 40 Valencia St"
    assert rows["City / town"] == "San Francisco San Francisco"
    assert rows["State / region"] == "CA CA"
    assert rows["Postal code"] == "94103 9-4-1-0-3"
    # Confirming, or "Change something", carries the fields as split.
    assert [_hidden(html, n) for n in ("address_line1", "city", "state", "postal_code")] == [
        "40 Valencia St",
        "San Francisco",
        "CA",
        "94103",
    ]


def test_an_address_typed_on_one_line_is_saved_in_its_fields(desk: Client) -> None:
    line = {**ONE_LINE, "address_line1": "PO Box 123, Springfield, il 62704-0123"}
    response = desk.post(URL, {**_form(**line), "step": "confirm"})
    assert response.status_code == 302
    patient = Patient.objects.get()
    assert (patient.address_line1, patient.city, patient.state, patient.postal_code) == (
        "PO Box 123",
        "Springfield",
        "IL",
        "62704-0123",
    )


def test_a_one_line_address_split_shows_in_its_fields_when_something_else_is_wrong(
    desk: Client,
) -> None:
    response = desk.post(URL, {**_form(**ONE_LINE, birth_date="13/45/1985"), "step": "review"})
    assert response.status_code == 400
    html = response.content.decode()
    for shown in ('value="40 Valencia St"', 'value="San Francisco"', 'value="94103"'):
        assert shown in html


@pytest.mark.parametrize(
    "line",
    [
        "40 Valencia St, San Francisco, CA",
        "40 Valencia St, San Francisco, ZZ 94103",
        "40 Valencia St, Apt 2, San Francisco, CA 94103",
    ],
)
def test_a_line_that_cannot_be_split_is_kept_and_its_missing_parts_asked_for(
    desk: Client, line: str
) -> None:
    response = desk.post(URL, {**_form(**{**ONE_LINE, "address_line1": line}), "step": "review"})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'value="{line}"' in html
    assert "write it as 40 Valencia St, San Francisco, CA 94103" in html
    for message in ("Type the city or town.", "e.g. CA.", "Type the postal code."):
        assert message in html
    assert not Patient.objects.exists()


def test_a_line_whose_town_would_not_fit_the_town_field_is_not_split(desk: Client) -> None:
    line = f"40 Valencia St, {'San Francisco ' * 8}CA 94103"  # a 120-letter "town"
    response = desk.post(URL, {**_form(**{**ONE_LINE, "address_line1": line}), "step": "review"})
    assert response.status_code == 400
    assert "Type the city or town." in response.content.decode()


def test_the_street_field_says_the_whole_address_may_go_on_one_line(desk: Client) -> None:
    html = desk.get(URL).content.decode()
    assert "or the whole address on one line: 40 Valencia St, San Francisco, CA 94103." in html


def test_a_street_without_the_rest_is_still_a_street(desk: Client) -> None:
    data = _form(**{**ONE_LINE, "address_line1": "40 Valencia St"})
    assert desk.post(URL, {**data, "step": "confirm"}).status_code == 302
    assert Patient.objects.get().address_line1 == "40 Valencia St"


def test_a_line_is_not_split_over_a_town_already_typed(desk: Client) -> None:
    data = _form(**{**ONE_LINE, "city": "Oakland"})
    assert desk.post(URL, {**data, "step": "confirm"}).status_code == 302
    patient = Patient.objects.get()
    assert (patient.address_line1, patient.city) == (ONE_LINE["address_line1"], "Oakland")


def _submit_buttons(html: str) -> list[tuple[str, str]]:
    """(attributes, text) of each submit button of the registration form, in order."""
    html = html[html.index(f'action="{URL}"') :]
    return [
        (attrs, " ".join(text.split()))
        for attrs, text in re.findall(r'<button type="submit"([^>]*)>(.*?)</button>', html, re.S)
    ]


class TestPossibleExistingPatient:
    """Below the existing-patient threshold: the same name and birth date, every contact
    detail different (a namesake, or the patient moved)."""

    @pytest.fixture
    def existing(self, personas: Personas) -> Patient:
        return make_patient(
            personas.clinic,
            given_name="Robert",
            family_name="Johnson",
            birth_date=dt.date(1972, 4, 9),
            phone="+14155550177",
            email="",
            address_line1="9 Elm Rd",
            city="San Francisco",
            postal_code="94110",
        )

    def _namesake(self, **overrides: Any) -> dict[str, Any]:
        return _form(
            given_name="Robert",
            family_name="Johnson",
            sex="male",
            birth_date="04/09/1972",
            email="",
            **overrides,
        )

    def test_the_first_focused_primary_action_opens_the_existing_patient(
        self, desk: Client, existing: Patient
    ) -> None:
        html = desk.post(URL, {**self._namesake(), "step": "review"}).content.decode()
        assert "Possible existing patient" in html
        buttons = _submit_buttons(html)
        first_attrs, first_text = buttons[0]
        assert f'name="existing_id" value="{existing.pk}"' in first_attrs
        assert 'class="button primary"' in first_attrs and "autofocus" in first_attrs
        assert first_text == "This is the patient: open Robert Johnson’s chart"
        (register_attrs,) = [a for a, t in buttons if t == "Different person: register anyway"]
        assert "primary" not in register_attrs
        assert not [t for _, t in buttons if t == "Everything is right: register"]

    def test_registering_anyway_without_a_reason_is_refused_keeping_everything_typed(
        self, desk: Client, existing: Patient
    ) -> None:
        response = desk.post(URL, {**self._namesake(), "step": "confirm", "override_reason": ""})
        assert response.status_code == 409
        html = response.content.decode()
        assert "Open the existing record, or say why this is a different person." in html
        for kept in ('value="Robert"', 'value="Johnson"', 'value="12 Mission St"'):
            assert kept in html
        assert Patient.objects.count() == 1

    def test_a_reason_too_short_to_say_anything_is_refused_and_kept(
        self, desk: Client, existing: Patient
    ) -> None:
        response = desk.post(
            URL, {**self._namesake(), "step": "confirm", "override_reason": "  no  "}
        )
        assert response.status_code == 409
        html = response.content.decode()
        assert "Say a little more about why this is a different person" in html
        assert re.search(r"<textarea[^>]*autofocus[^>]*>\s*no\s*</textarea>", html)
        assert Patient.objects.count() == 1

    def test_registering_anyway_with_a_reason_records_it_in_the_audit_event(
        self, desk: Client, existing: Patient
    ) -> None:
        response = desk.post(
            URL,
            {
                **self._namesake(),
                "step": "confirm",
                "override_reason": "Checked passport: a different Robert Johnson",
            },
        )
        assert response.status_code == 302
        assert Patient.objects.count() == 2
        event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="patient")
        assert event.detail["duplicate_override_reason"] == (
            "Checked passport: a different Robert Johnson"
        )
        assert existing.pk in event.patient_ids

    def test_the_service_refuses_a_possible_match_without_a_reason_when_asked_to(
        self, personas: Personas, existing: Patient
    ) -> None:
        form = RegistrationForm(data=self._namesake())
        assert form.is_valid(), form.errors
        user = personas.front_desk
        with pytest.raises(services.DuplicateDecisionRequiredError) as refused:
            services.patient_register(
                context=AuditContext(
                    user.pk, user.username, user.role, user.clinic_id, None, "", "test"
                ),
                clinic=personas.clinic,
                data=form.cleaned_data,
                warnings_need_reason=True,
            )
        assert [c.patient for c in refused.value.candidates] == [existing]

    def test_the_candidate_is_compared_side_by_side_with_differences_marked(
        self, desk: Client, existing: Patient
    ) -> None:
        html = desk.post(URL, {**self._namesake(), "step": "review"}).content.decode()
        rows = {
            label: " ".join(re.sub(r"<[^>]+>", " ", cells).split())
            for label, cells in re.findall(
                r'<tr class="[a-z]*">\s*<th scope="row">([^<]+)</th>(.*?)</tr>', html, re.S
            )
        }
        assert rows["Name"] == "Robert Johnson Robert Johnson ✓ Same"
        assert rows["Birth date"] == "Apr 9, 1972 Apr 9, 1972 ✓ Same"
        assert rows["Address"] == (
            "12 Mission St, San Francisco, CA 94105 9 Elm Rd, San Francisco, 94110 ≠ Different"
        )
        # The candidate's phone is masked as on lists, with the audited reveal.
        assert rows["Phone"] == "(415) 555-0132 ••• ••• 0177 show ≠ Different"
        assert "+14155550177" not in html
        assert f"/patients/{existing.pk}/reveal/phone/" in html
        assert '<tr class="differs">' in html and '<tr class="agrees">' in html

    def test_the_duplicate_check_is_audited_naming_the_candidate_and_what_was_shown(
        self, desk: Client, existing: Patient
    ) -> None:
        desk.post(URL, {**self._namesake(), "step": "review"})
        event = AuditEvent.objects.get(object_type="duplicate_check")
        assert event.patient_ids == [existing.pk]
        (shown,) = event.detail["shown"]
        assert shown["patient_id"] == existing.pk
        assert {"Birth date", "Phone", "Address", "Email"} <= set(shown["fields"])

    def test_a_restricted_candidate_shows_only_its_name_and_mrn(
        self, desk: Client, existing: Patient
    ) -> None:
        Patient.objects.filter(pk=existing.pk).update(confidentiality="restricted")
        html = desk.post(URL, {**self._namesake(), "step": "review"}).content.decode()
        assert existing.mrn in html and "This record is restricted" in html
        assert "9 Elm Rd" not in html and "0177" not in html
        assert _submit_buttons(html)[0][1] == "This is the patient: open Robert Johnson’s chart"


def test_only_roles_that_register_may_register(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    assert client_for(personas.nurse).post(URL, {**_form(), "step": "confirm"}).status_code == 403
    assert not Patient.objects.exists()
