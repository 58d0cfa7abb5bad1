"""The correspondence timeline: letters, outbox messages and logged calls of the patient in one
list, newest first, on the chart and on its own audited page."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditEvent, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.inquiries.services import CallRequest, inquiry_log
from frontdesk.letters import services
from frontdesk.letters.models import LetterKind
from frontdesk.letters.selectors import correspondence_timeline
from frontdesk.messaging.outbox import outbox_add


def test_the_timeline_lists_letters_messages_and_calls_newest_first(personas: Personas) -> None:
    patient = make_patient(personas.clinic, email="john@example.org", consent_email=True)
    now = timezone.now()
    outbox_add(kind="reminder", object_id=1, patient=patient, now=now - dt.timedelta(days=2))
    inquiry_log(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        request=CallRequest(
            patient=patient,
            channel="phone",
            caller_kind="patient",
            contact_id=None,
            caller_name="",
            caller_relationship="",
            category="billing",
            message="A question about a bill.",
            callback_phone="",
            preferred_time="",
            urgency="routine",
            callback_wanted=False,
        ),
        now=now - dt.timedelta(days=1),
    )
    services.letter_issue(
        context=SYSTEM_CONTEXT,
        actor=personas.front_desk,
        patient=patient,
        kind=LetterKind.REFERRAL_ACCEPTED,
        fields={"referrer_name": "Dr Ada Grey", "referral_reason": "Knee pain"},
        addressee=services.Addressee("Dr Ada Grey", ["1 Oak Lane"]),
        now=now,
    )
    entries = correspondence_timeline(patient)
    assert [e.what for e in entries] == ["Letter", "Phone call", "Email"]
    assert entries[0].summary.startswith("Referral accepted: Referral of John Smith accepted")
    assert entries[0].document_id is not None
    assert entries[2].summary == "Appointment reminder"
    assert entries[2].status == "Waiting to be sent"
    stranger = make_patient(personas.other_clinic)
    assert correspondence_timeline(stranger) == []

    client = login_client(Client(), personas.nurse)
    chart = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Correspondence" in chart and "Referral of John Smith accepted" in chart
    assert "Write a letter" not in chart  # nurses read it; the desk writes
    page = client.get(reverse("letters:correspondence", args=[patient.pk]))
    assert page.status_code == 200 and "Phone call" in page.content.decode()
    assert AuditEvent.objects.filter(object_type=AuditObject.CORRESPONDENCE).count() == 1


def test_another_clinics_patient_has_no_timeline_here(personas: Personas) -> None:
    stranger = make_patient(personas.other_clinic)
    client = login_client(Client(), personas.front_desk)
    page = client.get(reverse("letters:correspondence", args=[stranger.pk]))
    assert page.status_code == 404
