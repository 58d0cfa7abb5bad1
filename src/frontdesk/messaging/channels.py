"""Delivering a message to a patient by the channel they agreed to: email or text message.

`notify_patient` is the one entry point. It never chooses a channel the patient has not
consented to (TCPA for texts, the patient's stated preference for email), and it never falls
back to a channel silently: with no consented channel it raises `NoConsentedChannel`.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.patients.models import ContactChannel, Patient, PhoneKind

EMAIL = "email"
SMS = "sms"


class DeliveryError(Exception):
    """A message could not be delivered; the text says why in plain words."""


class NoConsentedChannel(DeliveryError):  # noqa: N818 - the name other modules import
    """The patient has agreed to no channel we can use (or gave no address for it)."""


class SmsNotConfiguredError(DeliveryError):
    """No text-message provider is configured (SMS_PROVIDER_URL is empty)."""


class SmsProvider(Protocol):
    def send(self, to_e164: str, text: str) -> None:
        """Hand one text message to the provider; raise DeliveryError when it refuses."""


class NullSmsProvider:
    """Used when no provider is configured: refuses every message, saying what to set."""

    def send(self, to_e164: str, text: str) -> None:
        raise SmsNotConfiguredError(
            "Text messages cannot be sent: no text-message provider is configured "
            "(set SMS_PROVIDER_URL and SMS_PROVIDER_TOKEN)."
        )


class HttpJsonSmsProvider:
    """A generic provider: POST {"to": "+1...", "text": "..."} as JSON with a bearer token.

    Most SMS gateways accept this shape directly or through a small relay; a 2xx answer means
    accepted, anything else is a failure carrying the provider's status code.
    """

    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, to_e164: str, text: str) -> None:
        body = json.dumps({"to": to_e164, "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL scheme is checked in settings
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(
                f"The text-message provider refused the message (HTTP {exc.code})."
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(
                f"The text-message provider could not be reached ({exc})."
            ) from None
        if not 200 <= status < 300:
            raise DeliveryError(f"The text-message provider refused the message (HTTP {status}).")


def sms_provider() -> SmsProvider:
    """The provider configured in settings (read on every call, so tests can override it)."""
    url = str(getattr(settings, "SMS_PROVIDER_URL", ""))
    if not url:
        return NullSmsProvider()
    return HttpJsonSmsProvider(url, str(getattr(settings, "SMS_PROVIDER_TOKEN", "")))


def _mobile_number(patient: Patient) -> str:
    # Texts go to a number the patient told us is a mobile; a landline cannot receive them.
    if patient.phone and patient.phone_kind == PhoneKind.MOBILE:
        return patient.phone
    if patient.phone_alt and patient.phone_alt_kind == PhoneKind.MOBILE:
        return patient.phone_alt
    return ""


def consented_channels(patient: Patient) -> list[str]:
    """Channels we may use, the patient's preferred one first; empty when there is none."""
    usable: list[str] = []
    if patient.consent_email and patient.email:
        usable.append(EMAIL)
    if patient.consent_sms and _mobile_number(patient):
        usable.append(SMS)
    if patient.preferred_contact == ContactChannel.SMS and SMS in usable:
        usable.remove(SMS)
        usable.insert(0, SMS)
    return usable


def _smtp_failure(exc: Exception) -> str:
    """The exception's class and SMTP code only: the server's own words often repeat the
    recipient's address, which must not reach logs, delivery rows or the audit trail."""
    codes: list[int] = []
    if isinstance(exc, smtplib.SMTPResponseException):
        codes.append(exc.smtp_code)
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes.extend(code for code, _ in exc.recipients.values())
    words = type(exc).__name__
    if codes:
        words += ", SMTP " + "/".join(str(code) for code in sorted(set(codes)))
    return words


def choose_channel(patient: Patient) -> str:
    usable = consented_channels(patient)
    if not usable:
        raise NoConsentedChannel(
            "This patient has not agreed to email or text messages (or has no email address "
            "or mobile number on file), so no message was sent."
        )
    return usable[0]


def notify_patient(
    patient: Patient,
    *,
    subject: str,
    text: str,
    html: str | None = None,
    sms_text: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    context: AuditContext = SYSTEM_CONTEXT,
) -> str:
    """Send one message by the patient's consented channel and return it ("email" or "sms").

    Email carries the text part, the HTML part and the attachments (name, bytes, MIME type);
    a text message carries `sms_text` (or `text`) only. Raises `NoConsentedChannel` when the
    patient agreed to nothing usable and `DeliveryError` when the channel refused. A delivered
    message writes one audit event (the address used is PHI). Call it outside a transaction:
    it waits on the network.
    """
    channel = choose_channel(patient)
    if channel == EMAIL:
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[patient.email],
        )
        if html is not None:
            message.attach_alternative(html, "text/html")
        for filename, content, mimetype in attachments:
            message.attach(filename, content, mimetype)
        try:
            message.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"The email could not be sent ({_smtp_failure(exc)}).") from None
    else:
        sms_provider().send(_mobile_number(patient), sms_text if sms_text is not None else text)
    with transaction.atomic():
        audit_record(
            context=context,
            action=AuditAction.SYSTEM,
            patient_ids=[patient.pk],
            object_type="message",
            detail={"event": "message sent", "channel": channel, "subject": subject},
            purpose="operations: patient messages",
        )
    return channel
