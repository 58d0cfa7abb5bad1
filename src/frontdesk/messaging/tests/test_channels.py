from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.audit.models import AuditEvent
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.messaging.channels import (
    DeliveryError,
    NoConsentedChannel,
    SmsNotConfiguredError,
    notify_patient,
)
from frontdesk.messaging.tests.conftest import Mailbox, SmsInbox
from frontdesk.patients.models import ContactChannel, PhoneKind
from frontdesk.scheduling.models import Schedule, WaitlistEntry, WaitlistOffer
from frontdesk.scheduling.waitlist.notices import waitlist_messages_send


def test_an_email_arrives_with_text_html_and_attachment_over_real_smtp(
    personas: Personas, smtp_server: Mailbox
) -> None:
    patient = make_patient(
        personas.clinic, email="john@example.org", consent_email=True, preferred_contact="email"
    )

    channel = notify_patient(
        patient,
        subject="Your visit",
        text="Plain words",
        html="<p>Rich words</p>",
        attachments=[("note.txt", b"attached bytes", "text/plain")],
    )

    assert channel == "email"
    (message,) = smtp_server.messages
    assert smtp_server.recipients == [["john@example.org"]]
    assert message["Subject"] == "Your visit"
    assert message.get_body(("plain",)).get_content().strip() == "Plain words"  # type: ignore[union-attr]
    assert "<p>Rich words</p>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "note.txt"
    assert attachment.get_content() == "attached bytes"
    event = AuditEvent.objects.get(object_type="message")
    assert event.patient_ids == [patient.pk]
    assert event.detail["channel"] == "email"


def test_a_text_message_goes_to_the_mobile_number_through_the_http_provider(
    personas: Personas, sms_server: SmsInbox
) -> None:
    patient = make_patient(
        personas.clinic,
        phone="+12025550143",
        phone_kind=PhoneKind.MOBILE,
        consent_sms=True,
        preferred_contact=ContactChannel.SMS,
    )

    channel = notify_patient(patient, subject="Visit", text="Long text", sms_text="Short text")

    assert channel == "sms"
    assert sms_server.received == [{"to": "+12025550143", "text": "Short text"}]
    assert sms_server.authorizations == ["Bearer test-token-123"]


def test_the_preferred_channel_wins_when_both_are_consented(
    personas: Personas, smtp_server: Mailbox, sms_server: SmsInbox
) -> None:
    both = {
        "email": "john@example.org",
        "consent_email": True,
        "consent_sms": True,
        "phone_kind": PhoneKind.MOBILE,
    }
    texter = make_patient(personas.clinic, preferred_contact=ContactChannel.SMS, **both)
    mailer = make_patient(personas.clinic, preferred_contact=ContactChannel.EMAIL, **both)

    assert notify_patient(texter, subject="s", text="t") == "sms"
    assert notify_patient(mailer, subject="s", text="t") == "email"
    assert len(sms_server.received) == 1
    assert len(smtp_server.messages) == 1


def test_no_message_is_sent_without_consent_even_when_the_address_is_known(
    personas: Personas, smtp_server: Mailbox, sms_server: SmsInbox
) -> None:
    patient = make_patient(
        personas.clinic,
        email="john@example.org",
        phone_kind=PhoneKind.MOBILE,
        preferred_contact=ContactChannel.EMAIL,
        consent_email=False,
        consent_sms=False,
    )

    with pytest.raises(NoConsentedChannel, match="has not agreed"):
        notify_patient(patient, subject="s", text="t")
    assert smtp_server.messages == []
    assert sms_server.received == []
    assert not AuditEvent.objects.filter(object_type="message").exists()


def test_a_text_is_never_sent_to_a_landline(personas: Personas, sms_server: SmsInbox) -> None:
    patient = make_patient(
        personas.clinic, phone_kind=PhoneKind.HOME, consent_sms=True, preferred_contact="sms"
    )

    with pytest.raises(NoConsentedChannel):
        notify_patient(patient, subject="s", text="t")
    assert sms_server.received == []


def test_without_a_provider_texts_are_refused_clearly(personas: Personas, settings: Any) -> None:
    settings.SMS_PROVIDER_URL = ""
    patient = make_patient(personas.clinic, consent_sms=True, preferred_contact="sms")

    with pytest.raises(SmsNotConfiguredError, match="SMS_PROVIDER_URL"):
        notify_patient(patient, subject="s", text="t")


def test_a_provider_refusal_is_a_delivery_error_with_its_status(
    personas: Personas, sms_server: SmsInbox
) -> None:
    sms_server.status = 503
    patient = make_patient(personas.clinic, consent_sms=True, preferred_contact="sms")

    with pytest.raises(DeliveryError, match="HTTP 503"):
        notify_patient(patient, subject="s", text="t")
    assert not AuditEvent.objects.filter(object_type="message").exists()


def test_a_refused_recipient_is_reported_by_code_without_the_address(
    personas: Personas, refusing_smtp_server: Mailbox
) -> None:
    patient = make_patient(
        personas.clinic, email="john@example.org", consent_email=True, preferred_contact="email"
    )

    with pytest.raises(DeliveryError) as refused:
        notify_patient(patient, subject="s", text="t")

    assert str(refused.value) == "The email could not be sent (SMTPRecipientsRefused, SMTP 550)."
    assert not AuditEvent.objects.filter(object_type="message").exists()


def test_a_waitlist_message_that_is_refused_is_logged_without_the_address(
    personas: Personas, refusing_smtp_server: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    patient = make_patient(
        personas.clinic, email="john@example.org", consent_email=True, preferred_contact="email"
    )
    provider = Provider.objects.create(clinic=personas.clinic, given_name="Mei", family_name="Lee")
    location = Location.objects.create(clinic=personas.clinic, name="Northside")
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    kind = AppointmentType.objects.create(clinic=personas.clinic, name="Visit", duration_minutes=30)
    now = timezone.now()
    entry = WaitlistEntry.objects.create(
        clinic=personas.clinic,
        patient=patient,
        appointment_type=kind,
        earliest_date=now.date(),
        latest_date=now.date() + dt.timedelta(days=7),
        created_at=now,
    )
    start = now + dt.timedelta(days=1)
    offer = WaitlistOffer.objects.create(
        entry=entry,
        schedule=schedule,
        provider=provider,
        start=start,
        end=start + dt.timedelta(minutes=30),
        expires_at=now + dt.timedelta(hours=2),
        created_at=now,
    )

    with caplog.at_level("WARNING", logger="frontdesk"):
        for kind_of_message in ("offer", "gone"):
            waitlist_messages_send(offer_ids=[offer.pk], kind=kind_of_message)

    logged = [r.getMessage() for r in caplog.records if r.name.startswith("frontdesk")]
    assert len(logged) == 2
    assert all("SMTP 550" in text for text in logged)
    assert not any("example.org" in text for text in logged)
