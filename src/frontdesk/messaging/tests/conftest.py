"""Real servers on loopback for message tests: an SMTP server (aiosmtpd) and an HTTP SMS
provider (http.server in a thread). Tests read what actually arrived."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from conftest import Personas
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment, AppointmentStatus, Schedule


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """Messages the loopback SMTP server accepted, parsed."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def _serve_smtp(mailbox: Mailbox, settings: Any) -> Iterator[Mailbox]:
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Mailbox]:
    yield from _serve_smtp(Mailbox(), settings)


class RecipientRefuser(Mailbox):
    """A mail server that refuses every recipient, repeating the address as real ones do."""

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


@pytest.fixture
def refusing_smtp_server(settings: Any) -> Iterator[Mailbox]:
    yield from _serve_smtp(RecipientRefuser(), settings)


@dataclass
class SmsInbox:
    """Requests the loopback SMS provider received; `status` is what it answers."""

    received: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    idempotency_keys: list[str] = field(default_factory=list)
    status: int = 202


@pytest.fixture
def sms_server(settings: Any) -> Iterator[SmsInbox]:
    inbox = SmsInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            inbox.received.append(json.loads(self.rfile.read(length)))
            inbox.authorizations.append(self.headers.get("Authorization", ""))
            inbox.idempotency_keys.append(self.headers.get("Idempotency-Key", ""))
            self.send_response(inbox.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": "msg-1"}')

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_PROVIDER_URL = f"http://127.0.0.1:{server.server_address[1]}/messages"
    settings.SMS_PROVIDER_TOKEN = "test-token-123"
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Place:
    location: Location
    schedule: Schedule
    kind: AppointmentType


@pytest.fixture
def place(personas: Personas) -> Place:
    location = Location.objects.create(
        clinic=personas.clinic, name="Northside", address="12 River Road, Springfield"
    )
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Mei", family_name="Lee", specialty="Oncology"
    )
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    # A visit type that would reveal a diagnosis: it must never appear in a reminder.
    kind = AppointmentType.objects.create(
        clinic=personas.clinic, name="Chemotherapy review", duration_minutes=30
    )
    return Place(location, schedule, kind)


def make_appointment(
    place: Place, patient: Patient, start: dt.datetime, **fields: object
) -> Appointment:
    now = timezone.now()
    end = start + dt.timedelta(minutes=place.kind.duration_minutes)
    values: dict[str, object] = {
        "clinic": place.schedule.clinic,
        "patient": patient,
        "schedule": place.schedule,
        "provider": place.schedule.provider,
        "appointment_type": place.kind,
        "start": start,
        "end": end,
        "busy_start": start,
        "busy_end": end,
        "status": AppointmentStatus.BOOKED,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return Appointment.objects.create(**values)
