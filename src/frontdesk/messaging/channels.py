"""Delivering a message to a patient by the channel they agreed to: email or text message.

`deliver` hands one message to the channel (the outbox, messaging/outbox.py, calls it for every
message caused by a change); `notify_patient` sends and audits at once. Neither ever chooses a
channel the patient has not consented to (TCPA for texts, the patient's stated preference for
email), nor falls back to a channel silently: with no consented channel it raises
`NoConsentedChannel`. In demo mode (settings.FRONTDESK_DEMO) every message goes, by the channel
it would have taken, to the keeper the demo registers (`demo_keeper_register`, from the demo
app's `ready()`: its outbox, demo/outbox.py) instead of the network.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext, audit_record
from frontdesk.patients.models import ContactChannel, Patient, PhoneKind

EMAIL = "email"
SMS = "sms"


class DeliveryError(Exception):
    """A message could not be delivered; the text says why in plain words.

    `permanent`: trying again cannot help (the address was refused); the outbox parks the
    message at once. `channel_down`: the server or provider itself could not be reached or
    answered nothing, so other messages by the same channel wait for the next run."""

    def __init__(self, words: str, *, permanent: bool = False, channel_down: bool = False):
        super().__init__(words)
        self.permanent = permanent
        self.channel_down = channel_down


class NoConsentedChannel(DeliveryError):  # noqa: N818 - the name other modules import
    """The patient has agreed to no channel we can use (or gave no address for it)."""


class SmsNotConfiguredError(DeliveryError):
    """No text-message provider is configured (SMS_PROVIDER_URL is empty)."""

    def __init__(self, words: str) -> None:
        # Retrying cannot help until someone configures a provider: park and say so.
        super().__init__(words, permanent=True)


class SmsProvider(Protocol):
    def send(self, to_e164: str, text: str, *, idempotency_key: str = "") -> None:
        """Hand one text message to the provider; raise DeliveryError when it refuses. The
        same `idempotency_key` on a second call lets the provider drop the duplicate."""


class NullSmsProvider:
    """Used when no provider is configured: refuses every message, saying what to set."""

    def send(self, to_e164: str, text: str, *, idempotency_key: str = "") -> None:
        raise SmsNotConfiguredError(
            "Text messages cannot be sent: no text-message provider is configured "
            "(set SMS_PROVIDER_URL and SMS_PROVIDER_TOKEN)."
        )


class HttpJsonSmsProvider:
    """A generic provider: POST {"to": "+1...", "text": "..."} as JSON with a bearer token and
    an `Idempotency-Key` header (the convention of Stripe, Twilio's and most gateways' APIs).

    Most SMS gateways accept this shape directly or through a small relay; a 2xx answer means
    accepted. A 4xx answer (other than 401, 403, 408 and 429) refuses this message for good;
    5xx, those four and no answer at all are worth trying again with the same key.
    """

    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, to_e164: str, text: str, *, idempotency_key: str = "") -> None:
        body = json.dumps({"to": to_e164, "text": text}).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(  # noqa: S310 - the URL scheme is checked in settings
            self.url, data=body, method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(
                f"The text-message provider could not be reached ({type(reason).__name__}).",
                channel_down=True,
            ) from None
        if not 200 <= status < 300:
            # 401/403: our token, not this message; every text would fail the same way.
            ours = status >= 500 or status in {401, 403}
            raise DeliveryError(
                f"The text-message provider refused the message (HTTP {status}).",
                permanent=not ours and status not in {408, 429},
                channel_down=ours,
            )


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


# Failures of the mail server itself (not of this message): the next messages would fail too.
_SMTP_SERVER_TROUBLE = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPSenderRefused,
)


def _smtp_failure(exc: Exception) -> DeliveryError:
    """The exception's class and SMTP code only: the server's own words often repeat the
    recipient's address, which must not reach logs, delivery rows or the audit trail.

    Permanent (parked at once): the server refused this recipient or this message with a 5xx
    code. Everything else (4xx, refused connection, timeout, a dropped connection, our own
    sign-in or sender refused) is retried: the message may go through later."""
    codes: list[int] = []
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes.extend(code for code, _ in exc.recipients.values())
    elif isinstance(exc, smtplib.SMTPResponseException):
        codes.append(exc.smtp_code)
    words = type(exc).__name__
    if codes:
        words += ", SMTP " + "/".join(str(code) for code in sorted(set(codes)))
    server_trouble = isinstance(exc, _SMTP_SERVER_TROUBLE) or not isinstance(
        exc, smtplib.SMTPException
    )  # OSError: refused, unreachable, timed out
    permanent = (
        not server_trouble
        and isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError)
        and bool(codes)
        and all(500 <= code < 600 for code in codes)
    )
    return DeliveryError(
        f"The email could not be sent ({words}).",
        permanent=permanent,
        channel_down=server_trouble,
    )


def choose_channel(patient: Patient) -> str:
    usable = consented_channels(patient)
    if not usable:
        raise NoConsentedChannel(
            "This patient has not agreed to email or text messages (or has no email address "
            "or mobile number on file), so no message was sent."
        )
    return usable[0]


def deliver(
    patient: Patient,
    *,
    subject: str,
    text: str,
    html: str | None = None,
    sms_text: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    message_id: str = "",
    idempotency_key: str = "",
) -> tuple[str, str]:
    """Hand one message to the patient's consented channel; returns (channel, recipient).
    Writes nothing: the caller records the outcome (the outbox, in the transaction that marks
    the message sent). `message_id` becomes the email's Message-ID header and `idempotency_key`
    goes to the text-message provider, so a second attempt of one message is recognisable."""
    channel = choose_channel(patient)
    if settings.FRONTDESK_DEMO:
        return _demo_keep(
            patient,
            channel=channel,
            subject=subject,
            body=text if channel == EMAIL or sms_text is None else sms_text,
            key=message_id or idempotency_key,
        )
    if channel == EMAIL:
        headers = {"Message-ID": message_id} if message_id else {}
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[patient.email],
            headers=headers,
        )
        if html is not None:
            message.attach_alternative(html, "text/html")
        for filename, content, mimetype in attachments:
            message.attach(filename, content, mimetype)
        try:
            message.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            raise _smtp_failure(exc) from None
        return channel, patient.email
    number = _mobile_number(patient)
    sms_provider().send(
        number, sms_text if sms_text is not None else text, idempotency_key=idempotency_key
    )
    return channel, number


class DemoKeeper(Protocol):
    def __call__(
        self, *, patient: Patient, channel: str, recipient: str, subject: str, body: str, key: str
    ) -> object:
        """Keep one message as delivered, once per `key` (its Message-ID or idempotency key)."""


_demo_keeper: DemoKeeper | None = None


def demo_keeper_register(keeper: DemoKeeper) -> None:
    """Where demo mode keeps messages instead of sending them (the demo app, from `ready()`)."""
    global _demo_keeper
    _demo_keeper = keeper


def _demo_keep(
    patient: Patient, *, channel: str, subject: str, body: str, key: str
) -> tuple[str, str]:
    """Demo mode: the message goes to the demo's keeper, never the network."""
    if _demo_keeper is None:
        raise ImproperlyConfigured("FRONTDESK_DEMO is set, but no demo app keeps the messages.")
    recipient = patient.email if channel == EMAIL else _mobile_number(patient)
    _demo_keeper(
        patient=patient, channel=channel, recipient=recipient, subject=subject, body=body, key=key
    )
    return channel, recipient


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
    it waits on the network. Messages caused by a change go through the outbox instead
    (messaging/outbox.py), which retries them and sends each at most once per key.
    """
    channel, _ = deliver(
        patient,
        subject=subject,
        text=text,
        html=html,
        sms_text=sms_text,
        attachments=attachments,
    )
    with transaction.atomic():
        message_sent_record(
            context=context, patient_id=patient.pk, channel=channel, subject=subject
        )
    return channel


def message_sent_record(
    *, context: AuditContext, patient_id: int, channel: str, subject: str, key: str = ""
) -> None:
    """The audit event of a message handed to its channel (who, how, what about; no address)."""
    detail = {"event": "message sent", "channel": channel, "subject": subject}
    if key:
        detail["key"] = key
    audit_record(
        context=context,
        action=AuditAction.SYSTEM,
        patient_ids=[patient_id],
        object_type=AuditObject.MESSAGE,
        detail=detail,
        purpose="operations: patient messages",
    )
