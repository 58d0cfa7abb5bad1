"""Issuing a letter: printed to PDF with the merged values (read back), filed to the chart as
correspondence, audited; sent through the outbox by the patient's agreed channel; refused for
another clinic's patient; nothing kept when the PDF cannot be printed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditEvent, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.documents.models import Document, DocumentKind, DocumentSource
from frontdesk.letters import services
from frontdesk.letters.models import Letter, LetterDelivery, LetterKind
from frontdesk.letters.tests.conftest import visit
from frontdesk.lib.pdf import pdf_text
from frontdesk.messaging.models import OutboxMessage
from frontdesk.patients.models import Patient

# 14:30 UTC on a winter day is 9:30 in New York.
START = dt.datetime(2026, 3, 3, 14, 30, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC)  # still February 28 in New York


@pytest.fixture
def ny(personas: Personas) -> Personas:
    personas.clinic.time_zone = "America/New_York"
    personas.clinic.save()
    return personas


def _patient(personas: Personas, **fields: object) -> Patient:
    values: dict[str, object] = {
        "given_name": "Rosa",
        "family_name": "Diaz",
        "address_line1": "4 Elm Road",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    }
    values.update(fields)
    return make_patient(personas.clinic, **values)


def _read(document: Document) -> str:
    with default_storage.open(document.file, "rb") as handle:
        return pdf_text(handle.read())


def test_a_confirmation_letter_prints_the_merged_values_in_the_clinics_time(ny: Personas) -> None:
    patient = _patient(ny)
    appointment = visit(ny, patient, START)
    document = services.letter_issue(
        context=SYSTEM_CONTEXT,
        actor=ny.front_desk,
        patient=patient,
        kind=LetterKind.APPOINTMENT_CONFIRMATION,
        appointment=appointment,
        delivery=LetterDelivery.PRINT,
        now=NOW,
    )
    assert document.kind == DocumentKind.CORRESPONDENCE
    assert document.patient_id == patient.pk
    assert document.appointment_id == appointment.pk
    assert document.source == DocumentSource.LETTER
    assert document.content_type == "application/pdf"
    text = " ".join(_read(document).split())
    assert "Riverside Family Clinic" in text
    assert "Rosa Diaz" in text and "4 Elm Road" in text and "Springfield, IL 62701" in text
    assert "February 28, 2026" in text  # the letter's date in the clinic's zone, not UTC's
    assert "Tuesday, March 3, 2026 at 9:30 AM" in text
    assert "Mei Lee, MD" in text and "Main Street office" in text
    letter = Letter.objects.get(document=document)
    assert letter.delivery == LetterDelivery.PRINT
    assert letter.subject == "Your appointment on Tuesday, March 3, 2026"
    event = AuditEvent.objects.get(object_type=AuditObject.LETTER)
    assert event.patient_ids == [patient.pk]


def test_a_clinics_own_template_is_used_and_its_text_escaped(ny: Personas) -> None:
    services.letter_template_save(
        context=SYSTEM_CONTEXT,
        user=ny.supervisor,
        clinic=ny.clinic,
        kind=LetterKind.MISSED_APPOINTMENT,
        subject="Missed: {appointment_date}",
        body="Hi {patient_first_name} <b>&</b> %}\n\nCall {clinic_phone}.",
    )
    patient = _patient(ny, preferred_name="Rosie")
    document = services.letter_issue(
        context=SYSTEM_CONTEXT,
        actor=ny.front_desk,
        patient=patient,
        kind=LetterKind.MISSED_APPOINTMENT,
        appointment=visit(ny, patient, START),
        now=NOW,
    )
    text = _read(document)
    assert "Hi Rosie <b>&</b> %}" in text
    assert "Call (202) 555-0100." in text


def test_a_letter_to_another_clinics_patient_is_refused(personas: Personas) -> None:
    stranger = make_patient(personas.other_clinic, given_name="Olav")
    with pytest.raises(services.LetterError, match="not one of this clinic's"):
        services.letter_issue(
            context=SYSTEM_CONTEXT,
            actor=personas.front_desk,
            patient=stranger,
            kind=LetterKind.REFERRAL_ACCEPTED,
            fields={"referrer_name": "Dr Grey", "referral_reason": "Knee"},
        )
    assert not Document.objects.exists()
    client = login_client(Client(), personas.front_desk)
    assert client.get(reverse("letters:new", args=[stranger.pk])).status_code == 404


def test_a_letter_missing_a_value_it_uses_is_refused_by_name(personas: Personas) -> None:
    with pytest.raises(services.LetterError, match=r"\{referrer_name\} \(who referred"):
        services.letter_issue(
            context=SYSTEM_CONTEXT,
            actor=personas.front_desk,
            patient=_patient(personas),
            kind=LetterKind.REFERRAL_ACCEPTED,
            fields={"referral_reason": "Knee pain"},
        )
    assert not Document.objects.exists()


def test_a_pdf_that_cannot_be_printed_is_refused_in_words_and_nothing_is_kept(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(html: str) -> bytes:
        raise RuntimeError("layout failed")

    monkeypatch.setattr(services, "pdf_render", broken)
    patient = _patient(personas)
    with pytest.raises(services.LetterError, match="could not be printed to PDF, so nothing"):
        services.letter_issue(
            context=SYSTEM_CONTEXT,
            actor=personas.front_desk,
            patient=patient,
            kind=LetterKind.APPOINTMENT_CONFIRMATION,
            appointment=visit(personas, patient, START),
        )
    assert not Document.objects.exists() and not Letter.objects.exists()
    assert not AuditEvent.objects.filter(object_type=AuditObject.LETTER).exists()


def test_a_failure_after_the_file_is_written_leaves_no_file_and_no_row(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(**kwargs: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "outbox_add", failing)
    patient = _patient(personas, email="rosa@example.org", consent_email=True)
    with pytest.raises(RuntimeError):
        services.letter_issue(
            context=SYSTEM_CONTEXT,
            actor=personas.front_desk,
            patient=patient,
            kind=LetterKind.APPOINTMENT_CONFIRMATION,
            appointment=visit(personas, patient, START),
            delivery=LetterDelivery.MESSAGE,
        )
    assert not Document.objects.exists()
    _, files = default_storage.listdir("documents")
    assert files == []


def test_a_sent_letter_goes_through_the_outbox_with_its_pdf_attached(
    personas: Personas,
) -> None:
    from frontdesk.letters.messages import LETTER_MESSAGE

    patient = _patient(personas, email="rosa@example.org", consent_email=True)
    document = services.letter_issue(
        context=SYSTEM_CONTEXT,
        actor=personas.front_desk,
        patient=patient,
        kind=LetterKind.APPOINTMENT_CONFIRMATION,
        appointment=visit(personas, patient, START),
        delivery=LetterDelivery.MESSAGE,
    )
    message = OutboxMessage.objects.get(patient=patient)
    assert message.kind == "letter" and message.channel == "email"
    outgoing = LETTER_MESSAGE.prepare(message, NOW)
    (name, data, mimetype) = outgoing.attachments[0]
    assert name == "letter.pdf"
    assert mimetype == "application/pdf" and data == default_storage.open(document.file).read()
    assert "Rosa Diaz" in pdf_text(data)


def test_sending_to_a_patient_who_agreed_to_no_channel_is_refused(personas: Personas) -> None:
    patient = _patient(personas, consent_email=False, consent_sms=False)
    with pytest.raises(services.LetterError, match="Print the letter instead"):
        services.letter_issue(
            context=SYSTEM_CONTEXT,
            actor=personas.front_desk,
            patient=patient,
            kind=LetterKind.APPOINTMENT_CONFIRMATION,
            appointment=visit(personas, patient, START),
            delivery=LetterDelivery.MESSAGE,
        )
    assert not Document.objects.exists()


def test_the_desk_prints_a_letter_from_the_chart_and_the_pdf_opens(personas: Personas) -> None:
    patient = _patient(personas)
    appointment = visit(personas, patient, timezone.now() + dt.timedelta(days=2))
    client = login_client(Client(), personas.front_desk)
    url = reverse("letters:new", args=[patient.pk])
    page = client.get(url, {"kind": "appointment_confirmation", "appointment": str(appointment.pk)})
    assert page.status_code == 200
    refused = client.post(url, {"kind": "appointment_confirmation"})
    assert "Choose the visit the letter is about." in refused.content.decode()
    assert "Choose whether to print the letter or send it." in refused.content.decode()
    posted = client.post(
        url,
        {"kind": "appointment_confirmation", "appointment": appointment.pk, "delivery": "print"},
    )
    document = Document.objects.get(patient=patient)
    assert posted.status_code == 302
    assert posted["Location"] == reverse("documents:content", args=[document.pk])
    pdf = client.get(posted["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "Rosa Diaz" in pdf_text(b"".join(pdf.streaming_content))  # type: ignore[attr-defined]


def test_nurses_and_billing_do_not_write_letters(personas: Personas) -> None:
    patient = _patient(personas)
    for user in (personas.nurse, personas.billing, personas.admin):
        client = login_client(Client(), user)
        assert client.get(reverse("letters:new", args=[patient.pk])).status_code == 403
