"""Further addresses and identity documents: entered at registration or from the chart,
validated in plain words, one document per clinic, masked until revealed, every change audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Personas, login_client, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.audit.services import AuditContext
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.patients import services
from frontdesk.patients.forms import IdentityDocumentForm, PatientAddressForm
from frontdesk.patients.merging import patient_merge, patient_unmerge
from frontdesk.patients.models import IdentityDocument, Patient, PatientAddress
from frontdesk.patients.selectors import parse_search_query, patient_search
from frontdesk.patients.validation import clean_document_number, clean_issuing_state

REGISTER = "/patients/register/"


def _document(patient: Patient, **fields: Any) -> IdentityDocument:
    values: dict[str, Any] = {
        "kind": "passport",
        "number": "X12345678",
        "issuing_country": "US",
        "created_at": timezone.now(),
        "updated_at": timezone.now(),
    }
    values.update(fields)
    return IdentityDocument.objects.create(clinic_id=patient.clinic_id, patient=patient, **values)


def _address(patient: Patient, **fields: Any) -> PatientAddress:
    values: dict[str, Any] = {
        "kind": "mailing",
        "address_line1": "PO Box 4471",
        "city": "Oakland",
        "state": "CA",
        "postal_code": "94604",
        "created_at": timezone.now(),
        "updated_at": timezone.now(),
    }
    values.update(fields)
    return PatientAddress.objects.create(patient=patient, **values)


def _context(user: User) -> AuditContext:
    return AuditContext(user.pk, user.username, user.role, user.clinic_id, None, "", "test")


@pytest.fixture
def desk(personas: Personas, client_for: Callable[[User], Client]) -> Client:
    return client_for(personas.front_desk)


# --- Validation ----------------------------------------------------------------------------


def test_a_document_number_is_kept_as_capital_letters_and_digits_without_separators() -> None:
    assert clean_document_number(" ab-123 456 ", kind="passport", country="CA") == "AB123456"
    assert clean_document_number("d123.456.78", kind="drivers_licence", country="US") == (
        "D12345678"
    )
    # Full-width digits typed from another keyboard are the same digits.
    assert clean_document_number("１２３４５６７８９", kind="passport", country="GB") == "123456789"


@pytest.mark.parametrize(
    ("number", "kind", "country", "message"),
    [
        ("   ", "passport", "US", "Type the document number"),
        ("AB#12345", "drivers_licence", "US", "only letters A to Z and digits"),
        ("Ж1234567", "passport", "DE", "only letters A to Z and digits"),
        ("A12", "drivers_licence", "US", "4 to 20 letters and digits"),
        ("1234567890123", "passport", "DE", "5 to 9 letters and digits"),
        ("ABCDEFGH", "drivers_licence", "US", "have digits in them"),
        ("12345678", "passport", "US", "Passports from US have 9 digits"),
        ("A1234567", "passport", "CA", "2 letters and 6 digits"),
        ("078-05-1120", "national_id", "US", "not a valid Social Security number"),
        ("123456789", "national_id", "CA", "not a valid Social Insurance Number"),
    ],
)
def test_a_wrong_document_number_gets_a_plain_message(
    number: str, kind: str, country: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_document_number(number, kind=kind, country=country)
    assert message in " ".join(refused.value.messages)


def test_a_national_id_with_a_valid_check_is_accepted_in_its_compact_form() -> None:
    assert clean_document_number("123-456-782", kind="national_id", country="CA") == "123456782"
    assert clean_document_number("536-90-4399", kind="national_id", country="US") == "536904399"


def test_a_drivers_licence_names_its_issuing_state_and_other_documents_have_none() -> None:
    assert clean_issuing_state(" n.y. ", kind="drivers_licence", country="US") == "NY"
    assert clean_issuing_state("NY", kind="passport", country="US") == ""
    with pytest.raises(ValidationError, match="issued by a state or province"):
        clean_issuing_state("", kind="drivers_licence", country="US")
    with pytest.raises(ValidationError, match="postal abbreviation"):
        clean_issuing_state("New York", kind="drivers_licence", country="US")


def test_an_extra_address_checks_its_postal_code_against_its_own_country() -> None:
    form = PatientAddressForm(
        {"kind": "mailing", "address_line1": "1 Main St", "postal_code": "K1A 0B1", "country": "US"}
    )
    assert not form.is_valid()
    assert "does not fit US" in form.errors["postal_code"][0]
    form = PatientAddressForm(
        {"kind": "work", "address_line1": "1 Main St", "postal_code": "k1a 0b1", "country": "CA"}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["postal_code"] == "K1A 0B1"


def test_an_address_cannot_end_before_it_starts_in_the_form_or_the_database(
    patient: Patient,
) -> None:
    form = PatientAddressForm(
        {
            "kind": "temporary",
            "address_line1": "1 Main St",
            "country": "US",
            "valid_from": "05/01/2026",
            "valid_until": "04/01/2026",
        }
    )
    assert not form.is_valid()
    assert "before the “valid from” date" in form.errors["valid_until"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        _address(patient, valid_from=dt.date(2026, 5, 1), valid_until=dt.date(2026, 4, 1))


def test_a_document_that_expires_absurdly_far_ahead_is_questioned() -> None:
    form = IdentityDocumentForm(
        {
            "kind": "passport",
            "number": "X12345678",
            "issuing_country": "US",
            "expires_on": "2099-01-01",
        }
    )
    assert not form.is_valid()
    assert "more than 30 years away" in form.errors["expires_on"][0]


# --- One document, one patient ---------------------------------------------------------------


def test_the_database_refuses_the_same_document_on_two_patients_of_one_clinic(
    personas: Personas, patient: Patient
) -> None:
    _document(patient)
    other = make_patient(personas.clinic, given_name="Jane")
    with pytest.raises(IntegrityError), transaction.atomic():
        _document(other)
    # A different issuer or kind is a different document; another clinic keeps its own index.
    _document(other, issuing_country="GB", number="X12345678")
    _document(other, kind="other")
    _document(make_patient(personas.other_clinic))
    assert IdentityDocument.objects.filter(number="X12345678").count() == 4


def test_a_lost_race_for_a_document_becomes_the_plain_message_and_saves_nothing(
    personas: Personas, patient: Patient
) -> None:
    _document(patient)
    other = make_patient(personas.clinic, given_name="Jane")
    data = {"kind": "passport", "number": "X12345678", "issuing_country": "US"}
    with pytest.raises(services.IdentityDocumentTakenError) as refused:
        services.identity_document_save(
            context=_context(personas.front_desk), patient=other, data=data
        )
    assert refused.value.message == (
        "This document is already on another patient's record; search for it."
    )
    assert not other.identity_documents.exists()
    assert not AuditEvent.objects.filter(object_type="identity_document").exists()


def test_adding_a_document_held_by_another_patient_says_so_without_naming_them(
    personas: Personas, desk: Client
) -> None:
    holder = make_patient(personas.clinic, given_name="Zebulon", family_name="Quayle")
    _document(holder, kind="drivers_licence", number="D1234567", issuing_state="NY")
    patient = make_patient(personas.clinic, given_name="Jane", family_name="Doe")
    response = desk.post(
        f"/patients/{patient.pk}/documents/new/",
        {
            "kind": "drivers_licence",
            "number": "d-123 4567",
            "issuing_country": "US",
            "issuing_state": "ny",
            "expires_on": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This document is already on another patient&#x27;s record; search for it." in html
    assert "Quayle" not in html and "Zebulon" not in html and holder.mrn not in html
    assert 'value="d-123 4567"' in html and 'value="ny"' in html  # kept as typed
    assert not patient.identity_documents.exists()


# --- Chart, masking and reveal ----------------------------------------------------------------


def test_the_chart_shows_further_addresses_and_masked_document_numbers(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    _address(patient, valid_from=dt.date(2026, 1, 1))
    _document(patient, number="X12345678", expires_on=dt.date(2020, 5, 1))
    html = client_for(personas.nurse).get(f"/patients/{patient.pk}/").content.decode()
    assert "PO Box 4471" in html and "Oakland" in html and "94604" in html
    assert "from Jan 1, 2026" in html
    assert "Passport" in html and "•••• 5678" in html
    assert "X12345678" not in html
    assert "Expired" in html
    # The nurse may look, not change.
    assert "Add an address" not in html and "/documents/new/" not in html
    desk_html = client_for(personas.front_desk).get(f"/patients/{patient.pk}/").content.decode()
    assert "Add an address" in desk_html and "Add an identity document" in desk_html


def test_revealing_a_document_number_shows_it_in_place_and_is_audited(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    document = _document(patient)
    client = client_for(personas.physician)
    response = client.post(f"/patients/{patient.pk}/reveal/document-{document.pk}/")
    assert response.status_code == 200
    assert "X12345678" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert event.object_type == "identity_document"
    assert event.object_id == str(document.pk)
    assert event.patient_ids == [patient.pk]
    assert event.actor_username == "phil"
    assert event.detail["shown_for"] == "reveal"


def test_a_document_of_another_patient_cannot_be_revealed_through_this_one(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    other = make_patient(personas.clinic, given_name="Jane")
    document = _document(other)
    client = client_for(personas.front_desk)
    for field in (f"document-{document.pk}", "document-x", "document-", "address_line1"):
        response = client.post(f"/patients/{patient.pk}/reveal/{field}/")
        assert response.status_code == 404
        assert b"X12345678" not in response.content
    outsider = client_for(personas.outsider)
    assert outsider.post(f"/patients/{other.pk}/reveal/document-{document.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()


# --- Edits from the chart, each audited --------------------------------------------------------


def test_an_address_added_in_the_clinics_evening_is_confirmed_that_day_there(
    patient: Patient, personas: Personas
) -> None:
    # 01:30 UTC on 6 December is 20:30 on 5 December in New York, the clinic's zone.
    with time_machine.travel(dt.datetime(2026, 12, 6, 1, 30, tzinfo=dt.UTC), tick=False):
        address = services.patient_address_save(
            context=_context(personas.front_desk),
            patient=patient,
            data={"kind": "mailing", "address_line1": "PO Box 4471", "country": "US"},
        )
    assert address.confirmed_on == dt.date(2026, 12, 5)


def test_adding_changing_and_removing_an_address_from_the_chart_is_audited(
    patient: Patient, desk: Client
) -> None:
    form = desk.get(f"/patients/{patient.pk}/addresses/new/")
    assert form.status_code == 200 and "Street and number" in form.content.decode()
    response = desk.post(
        f"/patients/{patient.pk}/addresses/new/",
        {
            "kind": "temporary",
            "address_line1": "  22   Harbour Rd ",
            "city": "Sausalito",
            "state": "CA",
            "postal_code": "94965",
            "country": "US",
            "valid_from": "06/01/2026",
            "valid_until": "08/31/2026",
        },
    )
    assert response["Location"] == f"/patients/{patient.pk}/"
    address = PatientAddress.objects.get(patient=patient)
    assert address.address_line1 == "22 Harbour Rd"
    assert address.valid_until == dt.date(2026, 8, 31)
    assert address.confirmed_on == timezone.localdate(timezone=clinic_zone(patient.clinic_id))

    edit = desk.get(f"/patients/{patient.pk}/addresses/{address.pk}/")
    assert 'value="22 Harbour Rd"' in edit.content.decode()
    desk.post(
        f"/patients/{patient.pk}/addresses/{address.pk}/",
        {"kind": "previous", "address_line1": "22 Harbour Rd", "country": "US"},
    )
    address.refresh_from_db()
    assert address.kind == "previous" and address.valid_from is None

    removed = desk.post(f"/patients/{patient.pk}/addresses/{address.pk}/remove/")
    assert removed.status_code == 302
    assert not PatientAddress.objects.exists()

    events = list(
        AuditEvent.objects.filter(object_type="patient_address")
        .order_by("seq")
        .values_list("action", "detail")
    )
    assert events == [
        (AuditAction.CREATE, {"kind": "temporary"}),
        (AuditAction.UPDATE, {"kind": "previous"}),
        (AuditAction.UPDATE, {"kind": "previous", "removed": True}),
    ]
    assert AuditEvent.objects.filter(object_type="patient_address_form").count() == 2


def test_a_wrong_address_keeps_everything_typed(patient: Patient, desk: Client) -> None:
    response = desk.post(
        f"/patients/{patient.pk}/addresses/new/",
        {"kind": "mailing", "address_line1": "", "city": "Sausalito", "postal_code": "9496"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Type the street and number." in html
    assert 'value="Sausalito"' in html and 'value="9496"' in html
    assert not PatientAddress.objects.exists()


def test_adding_changing_and_removing_a_document_is_audited_and_opening_one_is_a_reveal(
    patient: Patient, desk: Client
) -> None:
    response = desk.post(
        f"/patients/{patient.pk}/documents/new/",
        {"kind": "passport", "number": "x1234 5678", "issuing_country": "US", "expires_on": ""},
    )
    assert response["Location"] == f"/patients/{patient.pk}/"
    document = IdentityDocument.objects.get(patient=patient)
    assert document.number == "X12345678" and document.clinic_id == patient.clinic_id

    edit = desk.get(f"/patients/{patient.pk}/documents/{document.pk}/")
    assert 'value="X12345678"' in edit.content.decode()
    reveal = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert reveal.object_id == str(document.pk) and reveal.detail["shown_for"] == "change"

    # Saving the document unchanged is not a clash with itself.
    saved = desk.post(
        f"/patients/{patient.pk}/documents/{document.pk}/",
        {
            "kind": "passport",
            "number": "X12345678",
            "issuing_country": "US",
            "expires_on": "2031-02-03",
        },
    )
    assert saved.status_code == 302
    document.refresh_from_db()
    assert document.expires_on == dt.date(2031, 2, 3)

    desk.post(f"/patients/{patient.pk}/documents/{document.pk}/remove/")
    assert not IdentityDocument.objects.exists()
    actions = list(
        AuditEvent.objects.filter(object_type="identity_document")
        .exclude(action=AuditAction.REVEAL)
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.UPDATE]
    last = AuditEvent.objects.filter(object_type="identity_document").latest("seq")
    assert last.detail == {"kind": "passport", "removed": True}
    # The number itself never goes into the audit trail.
    assert not AuditEvent.objects.filter(detail__icontains="12345678").exists()


def test_addresses_and_documents_of_another_patient_cannot_be_changed_through_this_one(
    personas: Personas, patient: Patient, desk: Client
) -> None:
    other = make_patient(personas.clinic, given_name="Jane")
    address, document = _address(other), _document(other)
    assert desk.get(f"/patients/{patient.pk}/addresses/{address.pk}/").status_code == 404
    assert desk.post(f"/patients/{patient.pk}/documents/{document.pk}/remove/").status_code == 404
    assert PatientAddress.objects.filter(pk=address.pk).exists()
    assert IdentityDocument.objects.filter(pk=document.pk).exists()


# --- Search by document number ---------------------------------------------------------------


def test_search_finds_a_patient_by_document_number_however_it_is_typed(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    _document(patient, kind="drivers_licence", number="D1234567", issuing_state="NY")
    make_patient(personas.clinic, given_name="Jane", family_name="Doe")
    for typed in ("D1234567", "d-123 4567", " d123.4567 "):
        _parsed, found = patient_search(personas.front_desk, typed)
        assert [p.pk for p in found] == [patient.pk], typed
    html = client_for(personas.front_desk).get("/patients/", {"q": "d1234567"}).content.decode()
    assert patient.mrn in html
    # Another clinic's staff find nothing with the same number.
    assert patient_search(personas.outsider, "D1234567")[1] == []


def test_a_document_number_of_digits_only_is_found_alongside_phone_matches(
    personas: Personas, patient: Patient
) -> None:
    _document(patient, number="123456789", issuing_country="GB")
    parsed, found = patient_search(personas.front_desk, "123 456 789")
    assert parsed.document_number == "123456789"
    assert [p.pk for p in found] == [patient.pk]


def test_a_document_search_is_one_lookup_in_the_document_index(
    personas: Personas, patient: Patient
) -> None:
    _document(patient)
    assert parse_search_query("X1234-5678").document_number == "X12345678"
    assert parse_search_query("smith jo").document_number is None
    assert parse_search_query("1980-01-02").document_number is None
    with CaptureQueriesContext(connection) as queries:
        _parsed, found = patient_search(personas.front_desk, "X12345678")
    assert [p.pk for p in found] == [patient.pk]
    assert len(queries) == 1
    if connection.vendor == "sqlite":
        # The unique constraint's index answers "who holds number X in this clinic?".
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {queries[0]['sql']}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "USING INDEX sqlite_autoindex_patients_identitydocument" in plan, plan
        assert "(clinic_id=? AND number=?)" in plan, plan


# --- Registration with and without the extra blocks --------------------------------------------


def _registration(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "given_name": "Maria",
        "family_name": "Gonzalez",
        "birth_date": "03/14/1985",
        "sex": "female",
        "phone": "(415) 555-0132",
        "phone_kind": "mobile",
        "address_line1": "12 Mission St",
        "city": "San Francisco",
        "state": "CA",
        "postal_code": "94105",
        "country": "US",
        "preferred_language": "English",
        "preferred_contact": "phone",
        "guarantor_relationship": "self",
        "confidentiality": "normal",
    }
    data.update(overrides)
    return data


EXTRA_BLOCKS = {
    "extra_address-kind": "mailing",
    "extra_address-address_line1": "PO Box 881",
    "extra_address-city": "San Francisco",
    "extra_address-state": "CA",
    "extra_address-postal_code": "94101",
    "extra_address-country": "US",
    "document-kind": "drivers_licence",
    "document-number": "y765-4321",
    "document-issuing_country": "US",
    "document-issuing_state": "ca",
    "document-expires_on": "04/30/2029",
}
EMPTY_BLOCKS = {
    "extra_address-kind": "mailing",
    "extra_address-country": "US",
    "document-kind": "drivers_licence",
    "document-issuing_country": "US",
}


def test_registration_without_the_extra_blocks_still_registers(desk: Client) -> None:
    # Posted without the blocks at all (an older page), and with the blocks left empty.
    first = desk.post(REGISTER, {**_registration(), "step": "confirm"})
    assert first.status_code == 302
    second = desk.post(
        REGISTER,
        {
            **_registration(
                given_name="Tomasz",
                family_name="Nowak",
                birth_date="07/21/1990",
                phone="(415) 555-0199",
            ),
            **EMPTY_BLOCKS,
            "step": "confirm",
        },
    )
    assert second.status_code == 302, second.content.decode()
    assert Patient.objects.count() == 2
    assert not PatientAddress.objects.exists() and not IdentityDocument.objects.exists()


def test_registration_reads_back_and_saves_the_extra_address_and_document(
    desk: Client,
) -> None:
    review = desk.post(REGISTER, {**_registration(), **EXTRA_BLOCKS, "step": "review"})
    assert review.status_code == 200
    html = review.content.decode()
    assert "Y-7-6-5-4-3-2-1" in html  # the number read back character by character
    assert 'name="document-number" value="y765-4321"' in html  # carried as typed
    assert 'name="extra_address-address_line1" value="PO Box 881"' in html
    assert not Patient.objects.exists()

    saved = desk.post(REGISTER, {**_registration(), **EXTRA_BLOCKS, "step": "confirm"})
    patient = Patient.objects.get()
    assert saved["Location"] == f"/patients/{patient.pk}/"
    assert patient.address_line1 == "12 Mission St"  # the home address stays the primary one
    address = patient.addresses.get()
    assert (address.kind, address.address_line1, address.postal_code) == (
        "mailing",
        "PO Box 881",
        "94101",
    )
    document = patient.identity_documents.get()
    assert (document.kind, document.number, document.issuing_state) == (
        "drivers_licence",
        "Y7654321",
        "CA",
    )
    assert document.expires_on == dt.date(2029, 4, 30)
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="patient")
    assert event.detail["address"] == {"id": address.pk, "kind": "mailing"}
    assert event.detail["identity_document"] == {"id": document.pk, "kind": "drivers_licence"}


def test_a_half_filled_block_keeps_everything_typed_and_says_what_is_missing(
    desk: Client,
) -> None:
    response = desk.post(
        REGISTER,
        {
            **_registration(),
            **EMPTY_BLOCKS,
            "extra_address-city": "Daly City",
            "document-kind": "passport",
            "document-number": "12345678",
            "step": "review",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Type the street and number, or leave this address empty." in html
    assert "Passports from US have 9 digits" in html
    assert 'value="Daly City"' in html and 'value="12345678"' in html
    assert 'value="Gonzalez"' in html
    assert not Patient.objects.exists()


def test_change_something_keeps_the_extra_blocks(desk: Client) -> None:
    html = desk.post(REGISTER, {**_registration(), **EXTRA_BLOCKS, "step": "edit"}).content.decode()
    assert 'value="PO Box 881"' in html and 'value="y765-4321"' in html


def test_registering_with_a_document_already_on_file_is_stopped_before_anything_is_saved(
    personas: Personas, desk: Client
) -> None:
    holder = make_patient(personas.clinic, given_name="Zebulon", family_name="Quayle")
    _document(holder, kind="drivers_licence", number="Y7654321", issuing_state="CA")
    for step in ("review", "confirm"):
        response = desk.post(REGISTER, {**_registration(), **EXTRA_BLOCKS, "step": step})
        assert response.status_code == 409
        html = response.content.decode()
        assert "already on another patient&#x27;s record; search for it" in html
        assert "Some details need another look" in html
        assert "Quayle" not in html and holder.mrn not in html
        assert 'value="Gonzalez"' in html
    assert Patient.objects.count() == 1


def test_the_service_undoes_the_whole_registration_when_the_document_is_taken(
    personas: Personas,
) -> None:
    holder = make_patient(personas.clinic, given_name="Zebulon", family_name="Quayle")
    _document(holder)
    with pytest.raises(services.IdentityDocumentTakenError):
        services.patient_register(
            context=_context(personas.front_desk),
            clinic=personas.clinic,
            data={
                "given_name": "Maria",
                "family_name": "Gonzalez",
                "birth_date": dt.date(1985, 3, 14),
                "sex": "female",
            },
            extra_address={"kind": "work", "address_line1": "1 Market St", "country": "US"},
            identity_document={"kind": "passport", "number": "X12345678", "issuing_country": "US"},
        )
    assert list(Patient.objects.all()) == [holder]
    assert not PatientAddress.objects.exists()
    assert not AuditEvent.objects.filter(object_type="patient").exists()


def test_a_search_that_found_no_one_carries_the_document_number_into_registration(
    desk: Client,
) -> None:
    html = desk.get(REGISTER, {"q": "x1234-5678"}).content.decode()
    assert 'name="document-number" value="X12345678"' in html


def test_a_merge_moves_addresses_and_documents_to_the_survivor_and_an_undo_moves_them_back(
    personas: Personas, patient: Patient
) -> None:
    duplicate = make_patient(personas.clinic, given_name="Jon")
    address, document = _address(duplicate), _document(duplicate)
    context = _context(personas.supervisor)
    merge = patient_merge(
        context=context,
        user=personas.supervisor,
        survivor=patient,
        merged=duplicate,
        take_from_merged=set(),
    )
    assert list(patient.addresses.all()) == [address]
    assert list(patient.identity_documents.all()) == [document]
    # Search by the document now finds the surviving record.
    assert [p.pk for p in patient_search(personas.front_desk, "X12345678")[1]] == [patient.pk]
    patient_unmerge(context=context, user=personas.supervisor, merge=merge)
    assert list(duplicate.addresses.all()) == [address]
    assert list(duplicate.identity_documents.all()) == [document]


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    address=st.dictionaries(st.sampled_from(list(PatientAddressForm.base_fields)), TEXT),
    document=st.dictionaries(st.sampled_from(list(IdentityDocumentForm.base_fields)), TEXT),
    kind=st.sampled_from(["passport", "drivers_licence", "national_id", "other"]),
    country=st.sampled_from(["US", "CA", "GB", "FR", "BR"]),
)
def test_the_address_and_document_forms_answer_any_input_with_a_page_not_an_error(
    personas: Personas,
    address: dict[str, str],
    document: dict[str, str],
    kind: str,
    country: str,
) -> None:
    patient = make_patient(personas.clinic)
    client = login_client(Client(), personas.front_desk)
    response = client.post(f"/patients/{patient.pk}/addresses/new/", address)
    assert response.status_code in (302, 400)
    response = client.post(
        f"/patients/{patient.pk}/documents/new/",
        {"kind": kind, "issuing_country": country, **document},
    )
    assert response.status_code in (302, 400)
