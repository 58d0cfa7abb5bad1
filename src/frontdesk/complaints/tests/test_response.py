"""A supervisor acknowledges a grievance and answers it in writing: the letter is a PDF in the
clinic's own words (its complaint-response letter template), kept with the complaint, filed to
the patient's chart when there is one, and downloaded through a checked, audited view."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.complaints.models import (
    Category,
    Complaint,
    ComplaintLetter,
    ComplaintSettings,
    ComplaintStatus,
    EventKind,
    PrivacyReview,
)
from frontdesk.complaints.services import ComplaintRefusedError, complaint_respond
from frontdesk.complaints.tests.conftest import LogComplaint, context_of
from frontdesk.documents.models import Document
from frontdesk.letters.models import Letter, LetterKind
from frontdesk.letters.services import letter_template_save
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.pdf import pdf_text

RESPONSE = (
    "We have spoken with the clinic team about the wait on December 1.\n\n"
    "From January, the desk will tell every waiting patient about any delay over 20 minutes."
)


@pytest.fixture
def grievance(personas: Personas, log_complaint: LogComplaint) -> Complaint:
    return log_complaint(patient=make_patient(personas.clinic, family_name="Rivera"))


def test_the_supervisor_acknowledges_then_responds_and_the_letter_reads_back(
    personas: Personas, grievance: Complaint, client: Client
) -> None:
    supervisor = login_client(client, personas.supervisor)
    response = supervisor.post(
        reverse("complaints:acknowledge", args=[grievance.pk]), {"note": "Called the patient."}
    )
    assert response.status_code == 302
    grievance.refresh_from_db()
    assert grievance.status == ComplaintStatus.ACKNOWLEDGED
    assert grievance.owner == personas.supervisor

    response = supervisor.post(
        reverse("complaints:respond", args=[grievance.pk]), {"body": RESPONSE}
    )
    assert response.status_code == 302
    grievance.refresh_from_db()
    assert grievance.status == ComplaintStatus.RESPONDED
    assert grievance.resolved_at is not None

    letter = supervisor.get(reverse("complaints:letter", args=[grievance.pk]))
    assert letter.status_code == 200
    assert letter["Content-Type"] == "application/pdf"
    assert letter["X-Content-Type-Options"] == "nosniff"
    assert letter["Content-Disposition"].startswith("attachment;")
    pdf = letter.content
    assert pdf.startswith(b"%PDF-")
    text = " ".join(pdf_text(pdf).split())
    assert "John Rivera" in text  # the address block
    assert "Dear John," in text
    assert "Response to your complaint" in text
    assert "contact your state's health department" in text
    assert "tell every waiting patient about any delay over 20 minutes" in text
    assert personas.clinic.name in text
    assert bytes(ComplaintLetter.objects.get(complaint=grievance).pdf) == pdf
    assert AuditEvent.objects.filter(
        object_type="complaint_letter", object_id=str(grievance.pk), action="print"
    ).exists()
    kinds = list(grievance.events.values_list("kind", flat=True))
    assert kinds == [
        EventKind.LOGGED,
        EventKind.ESCALATED,
        EventKind.ACKNOWLEDGED,
        EventKind.RESPONDED,
    ]


def test_the_officer_who_logged_it_can_download_the_letter(
    personas: Personas, grievance: Complaint, client: Client
) -> None:
    complaint_respond(
        context=context_of(personas.supervisor),
        user=personas.supervisor,
        complaint=grievance,
        body=RESPONSE,
    )
    officer = login_client(client, personas.front_desk)
    assert officer.get(reverse("complaints:letter", args=[grievance.pk])).status_code == 200


def test_a_second_response_is_refused_and_the_first_letter_kept(
    personas: Personas, grievance: Complaint, client: Client
) -> None:
    first = complaint_respond(
        context=context_of(personas.supervisor),
        user=personas.supervisor,
        complaint=grievance,
        body=RESPONSE,
    )
    supervisor = login_client(client, personas.supervisor)
    response = supervisor.post(
        reverse("complaints:respond", args=[grievance.pk]), {"body": "Another letter."}
    )
    assert response.status_code == 400
    assert "has its written response already" in response.content.decode()
    assert "Another letter." in response.content.decode()
    assert ComplaintLetter.objects.get(complaint=grievance).pk == first.pk


def test_an_empty_or_enormous_response_is_refused_in_words(
    personas: Personas, grievance: Complaint, client: Client
) -> None:
    supervisor = login_client(client, personas.supervisor)
    url = reverse("complaints:respond", args=[grievance.pk])
    assert "Write the response." in supervisor.post(url, {"body": "  "}).content.decode()
    huge = supervisor.post(url, {"body": "y" * 50_000})
    assert huge.status_code == 400
    assert "Keep the response under 4,000 characters." in huge.content.decode()
    assert not ComplaintLetter.objects.exists()


def test_no_letter_is_a_404(personas: Personas, grievance: Complaint, client: Client) -> None:
    supervisor = login_client(client, personas.supervisor)
    assert supervisor.get(reverse("complaints:letter", args=[grievance.pk])).status_code == 404


def test_a_response_deadline_in_the_past_is_refused(
    personas: Personas, grievance: Complaint, client: Client
) -> None:
    supervisor = login_client(client, personas.supervisor)
    before = grievance.response_due
    yesterday = timezone.now().date() - dt.timedelta(days=2)
    response = supervisor.post(
        reverse("complaints:assign", args=[grievance.pk]),
        {"owner": personas.supervisor.pk, "response_due": f"{yesterday:%Y-%m-%d}"},
    )
    assert response.status_code == 400
    assert "a day that has passed" in response.content.decode()
    grievance.refresh_from_db()
    assert grievance.response_due == before
    assert grievance.owner is None


def test_an_owner_who_is_not_a_supervisor_is_refused(
    personas: Personas, grievance: Complaint, client: Client
) -> None:
    supervisor = login_client(client, personas.supervisor)
    response = supervisor.post(
        reverse("complaints:assign", args=[grievance.pk]), {"owner": personas.front_desk.pk}
    )
    assert response.status_code == 400
    assert "Choose the owner from the clinic&#x27;s supervisors." in response.content.decode()


def test_a_complaint_resolved_at_the_desk_needs_no_letter(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    resolved = log_complaint(resolved_at_desk=True, apologised=True)
    with pytest.raises(ComplaintRefusedError, match="no letter is due"):
        complaint_respond(
            context=context_of(personas.supervisor),
            user=personas.supervisor,
            complaint=resolved,
            body=RESPONSE,
        )


def test_the_supervisor_closes_a_privacy_review(
    personas: Personas, log_complaint: LogComplaint, client: Client
) -> None:
    complaint = log_complaint(category=Category.PRIVACY)
    supervisor = login_client(client, personas.supervisor)
    url = reverse("complaints:privacy_review", args=[complaint.pk])
    assert "Write the finding." in supervisor.post(url, {"finding": ""}).content.decode()
    response = supervisor.post(url, {"finding": "Screen faced the waiting room; moved."})
    assert response.status_code == 302
    review = PrivacyReview.objects.get(complaint=complaint)
    assert review.closed_at is not None
    assert review.reviewer == personas.supervisor


def test_markup_in_a_response_is_printed_as_words_and_fetches_nothing(
    personas: Personas, grievance: Complaint
) -> None:
    letter = complaint_respond(
        context=context_of(personas.supervisor),
        user=personas.supervisor,
        complaint=grievance,
        body='See <img src="http://127.0.0.1:9/x.png"> and <b>this</b>.',
    )
    text = " ".join(pdf_text(bytes(letter.pdf)).split())
    assert '<img src="http://127.0.0.1:9/x.png">' in text
    assert "<b>this</b>" in text


def test_the_clinic_sets_its_deadlines_and_privacy_officer_on_a_page(
    personas: Personas, client: Client
) -> None:
    supervisor = login_client(client, personas.supervisor)
    url = reverse("complaints:settings")
    bad = supervisor.post(url, {"acknowledge_business_days": "0", "response_days": "abc"})
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "Acknowledge within 1 to 30 business days." in body
    assert "Type a whole number of days." in body
    response = supervisor.post(
        url,
        {
            "acknowledge_business_days": "3",
            "response_days": "30",
            "privacy_officer": personas.supervisor.pk,
        },
    )
    assert response.status_code == 302
    held = ComplaintSettings.objects.get(clinic=personas.clinic)
    assert (held.acknowledge_business_days, held.response_days) == (3, 30)
    assert held.privacy_officer == personas.supervisor
    refused = supervisor.post(
        url,
        {
            "acknowledge_business_days": "2",
            "response_days": "7",
            "privacy_officer": personas.nurse.pk,
        },
    )
    assert refused.status_code == 400
    assert "Choose the privacy officer from the supervisors." in refused.content.decode()


def test_two_supervisors_answering_at_once_send_one_letter(
    transactional_audit: None, personas: Personas, log_complaint: LogComplaint
) -> None:
    grievance = log_complaint()
    writers = 3
    barrier = threading.Barrier(writers)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            complaint_respond(
                context=context_of(personas.supervisor),
                user=personas.supervisor,
                complaint=grievance,
                body=f"Response number {n}.",
            )
            outcomes.append("sent")
        except ComplaintRefusedError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("sent") == 1
    assert all("has its written response already" in o for o in outcomes if o != "sent")
    assert ComplaintLetter.objects.filter(complaint=grievance).count() == 1


def test_the_acknowledgement_letter_is_filed_to_the_patients_chart(
    personas: Personas, grievance: Complaint, client: Client
) -> None:
    supervisor = login_client(client, personas.supervisor)
    response = supervisor.post(
        reverse("complaints:acknowledge", args=[grievance.pk]), {"note": "", "letter": "on"}
    )
    assert response.status_code == 302
    document = Document.objects.get(patient=grievance.patient, kind="correspondence")
    with default_storage.open(document.file, "rb") as handle:
        text = " ".join(pdf_text(handle.read()).split())
    assert "We have received your complaint" in text
    assert "Sue is looking into it" in text


def test_no_acknowledgement_letter_is_written_for_a_complaint_without_a_patient(
    personas: Personas, log_complaint: LogComplaint
) -> None:
    from frontdesk.complaints.services import complaint_acknowledge

    anonymous = log_complaint(complainant="A visitor")
    with pytest.raises(ComplaintRefusedError, match="names no patient on file"):
        complaint_acknowledge(
            context=context_of(personas.supervisor),
            user=personas.supervisor,
            complaint=anonymous,
            letter=True,
        )
    anonymous.refresh_from_db()
    assert anonymous.status == ComplaintStatus.AWAITING_ACKNOWLEDGEMENT


def _clinic_words(personas: Personas) -> None:
    """The supervisor rewords the clinic's complaint-response letter on the letters pages."""
    letter_template_save(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        clinic=personas.clinic,
        kind=LetterKind.COMPLAINT_RESPONSE,
        subject="Our answer about {complaint_received_on}",
        body=(
            "Dear {patient_first_name},\n\nThe practice manager has reviewed your concern.\n\n"
            "{response}\n\nWith our apologies,\n{handler_name} for {clinic_name}"
        ),
    )


def test_the_response_letter_is_written_in_the_clinics_own_words(
    personas: Personas, grievance: Complaint, client: Client
) -> None:
    _clinic_words(personas)
    supervisor = login_client(client, personas.supervisor)
    response = supervisor.post(
        reverse("complaints:respond", args=[grievance.pk]), {"body": RESPONSE}
    )
    assert response.status_code == 302
    pdf = supervisor.get(reverse("complaints:letter", args=[grievance.pk])).content
    text = " ".join(pdf_text(pdf).split())
    received = grievance.created_at.astimezone(clinic_zone(personas.clinic)).date()
    assert f"Our answer about {received:%B} {received.day}, {received.year}" in text
    assert "Dear John, The practice manager has reviewed your concern." in text
    assert "tell every waiting patient about any delay over 20 minutes" in text
    assert f"With our apologies, Sue for {personas.clinic.name}" in text
    assert "contact your state's health department" not in text  # the default's words


def test_the_response_to_a_patient_is_also_filed_to_their_chart_as_correspondence(
    personas: Personas, grievance: Complaint
) -> None:
    kept = complaint_respond(
        context=context_of(personas.supervisor),
        user=personas.supervisor,
        complaint=grievance,
        body=RESPONSE,
    )
    filed = Letter.objects.get(patient=grievance.patient, kind=LetterKind.COMPLAINT_RESPONSE)
    assert filed.document.kind == "correspondence"
    assert filed.issued_by == personas.supervisor
    with default_storage.open(filed.document.file, "rb") as handle:
        assert handle.read() == bytes(kept.pdf)


@pytest.mark.parametrize(
    ("complainant", "greeting"), [("Pat Visitor", "Dear Pat Visitor,"), ("", "Dear Sir or Madam,")]
)
def test_an_anonymous_complaint_gets_its_response_letter_in_the_clinics_words(
    personas: Personas,
    log_complaint: LogComplaint,
    client: Client,
    complainant: str,
    greeting: str,
) -> None:
    _clinic_words(personas)
    anonymous = log_complaint(complainant=complainant)
    supervisor = login_client(client, personas.supervisor)
    response = supervisor.post(
        reverse("complaints:respond", args=[anonymous.pk]), {"body": RESPONSE}
    )
    assert response.status_code == 302
    letter = supervisor.get(reverse("complaints:letter", args=[anonymous.pk]))
    assert letter["X-Content-Type-Options"] == "nosniff"
    text = " ".join(pdf_text(letter.content).split())
    assert f"{greeting} The practice manager has reviewed your concern." in text
    assert "tell every waiting patient about any delay over 20 minutes" in text
    assert not Document.objects.exists()  # no chart to file it to
    assert not Letter.objects.exists()


def test_a_response_letter_that_cannot_be_printed_keeps_the_grievance_open_and_the_words(
    personas: Personas, grievance: Complaint, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(html: str) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr("frontdesk.letters.services.pdf_render", broken)
    supervisor = login_client(client, personas.supervisor)
    response = supervisor.post(
        reverse("complaints:respond", args=[grievance.pk]), {"body": RESPONSE}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "could not be printed to PDF, so nothing was saved or sent" in body
    assert "any delay over 20 minutes" in body
    grievance.refresh_from_db()
    assert grievance.status == ComplaintStatus.AWAITING_ACKNOWLEDGEMENT
    assert not ComplaintLetter.objects.exists()
    assert not Document.objects.exists()
