"""Requests for records: the 30-day deadline and its one extension in writing, the transition
table, third parties only on a complete authorisation, disclosures and their six-year
accounting read back from the PDF, the desk queue, and another clinic's staff kept out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.desk.sources import desk_sources
from frontdesk.documents.models import Document, DocumentKind
from frontdesk.documents.storage import Upload
from frontdesk.documents.tests.conftest import pdf_bytes
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.pdf import pdf_text
from frontdesk.patients.models import Patient
from frontdesk.records import services
from frontdesk.records.models import (
    AuthorisationElement,
    Disclosure,
    RecordsRequest,
    RecordsSettings,
    RequestStatus,
)
from frontdesk.records.selectors import disclosure_accounting_pdf

ALL_ELEMENTS = tuple(AuthorisationElement.values)


@pytest.fixture
def patient(personas: Personas) -> Patient:
    return make_patient(personas.clinic, given_name="Maria", family_name="Lopez")


def _details(**changes: Any) -> services.RequestDetails:
    values: dict[str, Any] = {
        "requester": "patient",
        "delivery": "mail",
        "record_kinds": ["visit_notes", "lab_results"],
        "requester_address": "12 Elm Street, Springfield, IL 62701",
        "records_from": dt.date(2024, 1, 1),
        "records_to": dt.date(2025, 6, 30),
    }
    values.update(changes)
    return services.RequestDetails(**values)


def _third_party(**changes: Any) -> services.RequestDetails:
    values: dict[str, Any] = {
        "requester": "third_party",
        "requester_name": "Dana Whitfield",
        "requester_organisation": "Whitfield & Park LLP",
        "requester_relationship": "Attorney",
        "delivery_to": "400 Main Street, Springfield, IL 62701",
        "purpose": "Personal injury claim",
        "authorisation_elements": ALL_ELEMENTS,
    }
    values.update(changes)
    return _details(**values)


def _log(
    personas: Personas,
    patient: Patient,
    details: services.RequestDetails | None = None,
    *,
    now: dt.datetime | None = None,
    authorisation: Upload | None = None,
) -> RecordsRequest:
    return services.records_request_log(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        details=details or _details(),
        authorisation=authorisation,
        now=now,
    )


def _signed_form() -> Upload:
    return Upload(name="authorisation.pdf", data=pdf_bytes())


def _ready(personas: Personas, request: RecordsRequest) -> RecordsRequest:
    user = personas.front_desk
    services.records_request_verify(
        context=SYSTEM_CONTEXT, user=user, request=request, method="photo_id"
    )
    return services.records_request_start(context=SYSTEM_CONTEXT, user=user, request=request)


def _send(personas: Personas, request: RecordsRequest, **changes: Any) -> RecordsRequest:
    values: dict[str, Any] = {
        "what": "Visit notes and laboratory results, 2024 to June 2025",
        "how": "mail",
        "pages": 12,
    }
    values.update(changes)
    return services.records_request_send(
        context=SYSTEM_CONTEXT, user=personas.front_desk, request=request, **values
    )


def _words(pdf: bytes) -> str:
    """A PDF's text with its lines joined: table cells wrap wherever the width ends."""
    return " ".join(pdf_text(pdf).split())


def _letter_text(document: Document) -> str:
    with default_storage.open(document.file, "rb") as file:
        return _words(file.read())


def test_a_request_is_due_30_days_after_it_is_received(
    personas: Personas, patient: Patient
) -> None:
    # Across the change to summer time: 30 days later at the same hour on the clinic's clock.
    now = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
    request = _log(personas, patient, now=now)
    assert request.status == RequestStatus.RECEIVED
    zone = clinic_zone(personas.clinic)
    received, due = now.astimezone(zone), request.due_at.astimezone(zone)
    assert due.date() - received.date() == dt.timedelta(days=30)
    assert due.time() == received.time()
    assert AuditEvent.objects.filter(object_type="records_request", action="create").exists()


def test_the_one_extension_adds_30_days_and_files_the_letter_that_says_why(
    personas: Personas, patient: Patient
) -> None:
    now = timezone.now()
    request = _log(personas, patient, now=now)
    due = request.due_at
    extended = services.records_request_extend(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        request=request,
        reason="The records are stored off site",
    )
    assert extended.due_at - due == dt.timedelta(days=30)
    letter = extended.extension_letter
    assert letter is not None
    assert (letter.patient_id, letter.kind) == (patient.pk, DocumentKind.CORRESPONDENCE)
    text = _letter_text(letter)
    assert "The records are stored off site" in text
    assert f"{extended.due_at:%B} " in text


def test_a_second_extension_is_refused(personas: Personas, patient: Patient) -> None:
    request = _log(personas, patient)
    services.records_request_extend(
        context=SYSTEM_CONTEXT, user=personas.front_desk, request=request, reason="Off site"
    )
    with pytest.raises(services.RecordsRequestError, match="one extension already"):
        services.records_request_extend(
            context=SYSTEM_CONTEXT, user=personas.front_desk, request=request, reason="Again"
        )
    request.refresh_from_db()
    assert request.due_at - request.received_at == dt.timedelta(days=60)


def test_an_extension_needs_a_reason_and_comes_before_the_deadline(
    personas: Personas, patient: Patient
) -> None:
    received = timezone.now() - dt.timedelta(days=31)
    request = _log(personas, patient, now=received)
    with pytest.raises(services.RecordsRequestError, match="Say why"):
        services.records_request_extend(
            context=SYSTEM_CONTEXT, user=personas.front_desk, request=request, reason="  "
        )
    with pytest.raises(services.RecordsRequestError, match="30 days have passed"):
        services.records_request_extend(
            context=SYSTEM_CONTEXT, user=personas.front_desk, request=request, reason="Late"
        )


def test_the_database_refuses_an_extension_without_its_letter(
    personas: Personas, patient: Patient
) -> None:
    request = _log(personas, patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordsRequest.objects.filter(pk=request.pk).update(
            extended_at=timezone.now(), extension_reason="No letter"
        )


def test_the_database_refuses_an_unknown_status_and_a_third_party_without_a_form(
    personas: Personas, patient: Patient
) -> None:
    request = _log(personas, patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordsRequest.objects.filter(pk=request.pk).update(status="lost")
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordsRequest.objects.filter(pk=request.pk).update(requester="third_party")


def test_a_denial_needs_a_reason_and_sends_a_letter(personas: Personas, patient: Patient) -> None:
    request = _log(personas, patient)
    with pytest.raises(services.RecordsRequestError, match="Say why the request is denied"):
        services.records_request_deny(
            context=SYSTEM_CONTEXT, user=personas.front_desk, request=request, reason=""
        )
    denied = services.records_request_deny(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        request=request,
        reason="The requester could not prove who they are",
    )
    assert denied.status == RequestStatus.DENIED
    assert denied.denial_letter is not None
    text = _letter_text(denied.denial_letter)
    assert "could not prove who they are" in text
    assert "reviewed" in text
    assert not Disclosure.objects.exists()


def test_a_third_party_without_a_complete_authorisation_is_refused_in_words(
    personas: Personas, patient: Patient
) -> None:
    lacking = tuple(e for e in ALL_ELEMENTS if e not in ("expiry", "revoke"))
    with pytest.raises(services.RecordsRequestError) as refusal:
        _log(
            personas,
            patient,
            _third_party(authorisation_elements=lacking),
            authorisation=_signed_form(),
        )
    assert "an expiry date or event" in str(refusal.value)
    assert "the right to revoke" in str(refusal.value)
    with pytest.raises(services.RecordsRequestError, match="Attach the signed authorisation"):
        _log(personas, patient, _third_party())
    assert not RecordsRequest.objects.exists()
    assert not Document.objects.exists()


def test_a_third_partys_signed_form_is_filed_as_a_consent_document(
    personas: Personas, patient: Patient
) -> None:
    request = _log(personas, patient, _third_party(), authorisation=_signed_form())
    document = request.authorisation_document
    assert document is not None
    assert (document.patient_id, document.kind) == (patient.pk, DocumentKind.CONSENT)
    assert request.recipient == "Dana Whitfield, Whitfield & Park LLP"


def test_a_backwards_date_range_is_refused(personas: Personas, patient: Patient) -> None:
    with pytest.raises(services.RecordsRequestError, match="run backwards"):
        _log(
            personas,
            patient,
            _details(records_from=dt.date(2025, 1, 1), records_to=dt.date(2024, 1, 1)),
        )


def test_the_steps_follow_the_transition_table(personas: Personas, patient: Patient) -> None:
    request = _log(personas, patient)
    with pytest.raises(services.RecordsRequestError, match="Gather the records"):
        _send(personas, request)
    with pytest.raises(services.RecordsRequestError, match="Verify the requester"):
        services.records_request_start(
            context=SYSTEM_CONTEXT, user=personas.front_desk, request=request
        )
    _ready(personas, request)
    with pytest.raises(services.RecordsRequestError, match="just received"):
        services.records_request_verify(
            context=SYSTEM_CONTEXT, user=personas.front_desk, request=request, method="photo_id"
        )


def test_sending_records_a_disclosure_the_fee_and_a_cover_letter(
    personas: Personas, patient: Patient
) -> None:
    RecordsSettings.objects.create(clinic=personas.clinic, paper_fee_per_page=Decimal("0.50"))
    request = _ready(
        personas, _log(personas, patient, _third_party(), authorisation=_signed_form())
    )
    sent = _send(personas, request)
    assert sent.status == RequestStatus.SENT
    assert sent.fee == Decimal("6.00")
    disclosure = Disclosure.objects.get(request=sent)
    assert disclosure.patient_id == patient.pk
    assert disclosure.recipient == "Dana Whitfield, Whitfield & Park LLP"
    assert disclosure.purpose == "Personal injury claim"
    assert sent.cover_letter is not None
    text = _letter_text(sent.cover_letter)
    assert "Visit notes and laboratory results" in text
    assert "$6.00" in text


def test_an_electronic_copy_is_charged_the_flat_fee_unless_one_is_typed(
    personas: Personas, patient: Patient
) -> None:
    request = _ready(
        personas, _log(personas, patient, _details(delivery="email", delivery_to="m@example.com"))
    )
    assert _send(personas, request, how="email", pages=None).fee == Decimal("6.50")
    other = _ready(personas, _log(personas, patient))
    assert _send(personas, other, fee=Decimal("0.00")).fee == Decimal("0.00")


def test_the_accounting_lists_the_last_six_years_and_leaves_older_ones_out(
    personas: Personas, patient: Patient
) -> None:
    request = _ready(
        personas, _log(personas, patient, _third_party(), authorisation=_signed_form())
    )
    _send(personas, request)
    Disclosure.objects.create(
        clinic=personas.clinic,
        patient=patient,
        disclosed_at=timezone.now() - dt.timedelta(days=6 * 366 + 2),
        recipient="Old Insurance Company",
        what="Claims file",
        purpose="Underwriting",
    )
    Disclosure.objects.create(
        clinic=personas.clinic,
        patient=make_patient(personas.clinic, given_name="Other", family_name="Person"),
        disclosed_at=timezone.now(),
        recipient="Someone Else Entirely",
        what="Everything",
        purpose="Other",
    )
    _, pdf = disclosure_accounting_pdf(
        personas.front_desk, context=SYSTEM_CONTEXT, patient_id=patient.pk
    )
    text = _words(pdf)
    assert "Accounting of disclosures" in text
    assert "Whitfield & Park LLP" in text
    assert "Personal injury claim" in text
    assert "Old Insurance Company" not in text
    assert "Someone Else Entirely" not in text
    assert AuditEvent.objects.filter(object_type="disclosure_accounting", action="print").exists()


def test_a_request_is_on_the_desk_queue_near_its_deadline_and_leaves_when_sent(
    personas: Personas, patient: Patient
) -> None:
    source = desk_sources()["records_request_due"]
    received = timezone.now()
    request = _log(personas, patient, now=received)
    clinic_id = personas.clinic.pk
    assert not source.rows(clinic_id=clinic_id, now=received).exists()
    near = request.due_at - dt.timedelta(days=4)
    (row,) = source.rows(clinic_id=clinic_id, now=near)
    assert (row["ref"], row["patient_id"], row["pool"]) == (request.pk, patient.pk, "desk")
    # Past due: the supervisors' too.
    (late,) = source.rows(clinic_id=clinic_id, now=request.due_at + dt.timedelta(hours=1))
    assert late["pool"] == "supervisors"
    entry = source.describe([request.pk], now=near)[request.pk]
    assert entry.title == "Answer a request for records"
    assert entry.patient_label == "Lopez, Maria"
    # A clinic that wants more warning sees it sooner.
    RecordsSettings.objects.create(clinic=personas.clinic, warn_days=10)
    assert source.rows(clinic_id=clinic_id, now=request.due_at - dt.timedelta(days=9)).exists()
    assert not source.rows(clinic_id=personas.other_clinic.pk, now=near).exists()
    _send(personas, _ready(personas, request))
    assert not source.rows(clinic_id=clinic_id, now=near).exists()


def test_the_desk_queue_page_shows_a_request_past_due(
    client: Client, personas: Personas, patient: Patient
) -> None:
    _log(personas, patient, now=timezone.now() - dt.timedelta(days=31))
    response = login_client(client, personas.supervisor).get(reverse("desk:queue"))
    assert response.status_code == 200
    assert "Answer a request for records" in response.content.decode()


def test_another_clinics_staff_cannot_see_a_request_or_the_accounting(
    client: Client, personas: Personas, patient: Patient
) -> None:
    request = _log(personas, patient)
    login_client(client, personas.outsider)
    assert client.get(reverse("records:request", args=[request.pk])).status_code == 404
    assert client.get(reverse("records:accounting", args=[patient.pk])).status_code == 404
    response = client.get(reverse("records:list"))
    assert "Lopez" not in response.content.decode()
    assert (
        client.post(reverse("records:step", args=[request.pk, "verify"]), {"method": "photo_id"})
    ).status_code == 404
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED


def test_the_pages_walk_a_request_from_logging_to_sent(
    client: Client, personas: Personas, patient: Patient
) -> None:
    login_client(client, personas.front_desk)
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Log a request for records" in chart
    response = client.post(
        reverse("records:new"),
        {
            "patient": patient.pk,
            "requester": "third_party",
            "requester_name": "Dana Whitfield",
            "requester_organisation": "Whitfield & Park LLP",
            "record_kinds": ["visit_notes"],
            "delivery": "mail",
            "delivery_to": "400 Main Street",
            "purpose": "Personal injury claim",
            "authorisation_elements": list(ALL_ELEMENTS),
            "authorisation": _uploaded(),
        },
    )
    assert response.status_code == 302, response.content.decode()
    request = RecordsRequest.objects.get()
    for step, data in (("verify", {"method": "notarised"}), ("start", {})):
        assert (
            client.post(reverse("records:step", args=[request.pk, step]), data).status_code == 302
        )
    page = client.get(reverse("records:request", args=[request.pk])).content.decode()
    assert "Send the records" in page
    response = client.post(
        reverse("records:step", args=[request.pk, "send"]),
        {"what": "Visit notes 2024", "how": "mail", "pages": "3", "fee": ""},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.SENT
    pdf = client.get(reverse("records:accounting", args=[patient.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert "Whitfield & Park LLP" in _words(pdf.content)
    listing = client.get(reverse("records:list")).content.decode()
    assert "Whitfield" not in listing  # sent: no longer open


def _uploaded() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("signed.pdf", pdf_bytes(), content_type="application/pdf")


def test_a_third_party_with_no_authorisation_gets_a_plain_message_and_keeps_what_was_typed(
    client: Client, personas: Personas, patient: Patient
) -> None:
    login_client(client, personas.front_desk)
    response = client.post(
        reverse("records:new"),
        {
            "patient": patient.pk,
            "requester": "third_party",
            "requester_name": "Dana Whitfield",
            "record_kinds": ["visit_notes"],
            "delivery": "mail",
            "delivery_to": "400 Main Street",
            "purpose": "Personal injury claim",
            "records_from": "2025-06-01",
            "records_to": "2024-01-01",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "only on a complete authorisation" in page
    assert "Attach the signed authorisation form" in page
    assert "the range runs backwards" in page
    assert 'value="Dana Whitfield"' in page
    assert 'value="400 Main Street"' in page
    assert not RecordsRequest.objects.exists()


def test_a_fee_typed_with_a_decimal_comma_gets_a_plain_message_and_keeps_what_was_typed(
    client: Client, personas: Personas, patient: Patient
) -> None:
    request = _ready(personas, _log(personas, patient))
    login_client(client, personas.front_desk)
    response = client.post(
        reverse("records:step", args=[request.pk, "send"]),
        {"what": "Visit notes 2024", "how": "mail", "pages": "3", "fee": "12,50"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Use a point for cents, like 12.50." in page
    assert 'value="12,50"' in page
    assert 'value="Visit notes 2024"' in page
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS
    login_client(client, personas.supervisor)
    response = client.post(
        reverse("records:settings"),
        {"electronic_fee": "12,50", "paper_fee_per_page": "0.10", "warn_days": "5"},
    )
    assert response.status_code == 400
    assert "Use a point for cents" in response.content.decode()
    assert not RecordsSettings.objects.exists()


def test_the_open_list_is_one_query_and_its_audit(
    client: Client, personas: Personas, patient: Patient, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        _log(personas, patient)
    login_client(client, personas.front_desk)
    client.get(reverse("records:list"))  # warm the session
    with django_assert_max_num_queries(12):
        response = client.get(reverse("records:list"))
    assert response.content.decode().count("Lopez, Maria") == 3


def test_administrators_reach_the_fees_and_see_no_requests(
    client: Client, personas: Personas
) -> None:
    from frontdesk.accounts.navigation import navigation_for

    admin_links = {item.key for item in navigation_for(personas.admin.role, "/")}
    desk_links = {item.key for item in navigation_for(personas.front_desk.role, "/")}
    assert "records_settings" in admin_links and "records" not in admin_links
    assert "records" in desk_links and "records_settings" not in desk_links
    listing = login_client(client, personas.supervisor).get(reverse("records:list"))
    assert reverse("records:settings") in listing.content.decode()
    response = client.post(
        reverse("records:settings"),
        {"electronic_fee": "5.00", "paper_fee_per_page": "0.10", "warn_days": "7"},
    )
    assert response.status_code == 302
    saved = RecordsSettings.objects.get(clinic=personas.clinic)
    assert (saved.electronic_fee, saved.warn_days) == (Decimal("5.00"), 7)
