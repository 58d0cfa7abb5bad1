"""What a reminder says: the email's text and HTML parts, the calendar file, the text message.

Reminders name the clinic, the place and the time, never the kind of visit or the provider's
specialty: an email or text may be read by someone else, and the type of visit can reveal a
diagnosis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import icalendar
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from frontdesk.clinic.models import Clinic
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.links import make_token
from frontdesk.scheduling.models import Appointment

APPOINTMENT_LINK_PURPOSE = "appointment"


@dataclass(frozen=True)
class When:
    date: str  # "Monday 30 November 2026"
    time: str  # "9:30 AM"
    short: str  # "Mon 30 Nov 9:30 AM", for text messages


def appointment_when(start: dt.datetime, clinic: Clinic | int) -> When:
    """`start` in words, at the clinic's local time."""
    local = start.astimezone(clinic_zone(clinic))
    hour = local.hour % 12 or 12
    time = f"{hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    return When(
        date=f"{local:%A} {local.day} {local:%B %Y}",
        time=time,
        short=f"{local:%a} {local.day} {local:%b} {time}",
    )


def appointment_place(appointment: Appointment) -> str:
    location = appointment.schedule.location
    return f"{location.name}, {location.address}" if location.address else location.name


def appointment_link(appointment: Appointment) -> str:
    """The patient's signed, expiring link to the confirm-or-cancel page."""
    token = make_token(APPOINTMENT_LINK_PURPOSE, appointment.pk)
    path = reverse("messaging:appointment", kwargs={"token": token})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def appointment_ics(appointment: Appointment, *, now: dt.datetime) -> bytes:
    """An iCalendar file with one VEVENT: the clinic, the place, start and end in UTC."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Frontdesk//Appointment reminder//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"appointment-{appointment.pk}@frontdesk")
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", appointment.start.astimezone(dt.UTC))
    event.add("dtend", appointment.end.astimezone(dt.UTC))
    event.add("summary", f"Appointment at {appointment.clinic.name}")
    event.add("location", appointment_place(appointment))
    calendar.add_component(event)
    return bytes(calendar.to_ical())


@dataclass(frozen=True)
class ReminderMessage:
    subject: str
    text: str
    html: str
    sms_text: str
    attachments: tuple[tuple[str, bytes, str], ...]


def reminder_message(appointment: Appointment, *, now: dt.datetime) -> ReminderMessage:
    when = appointment_when(appointment.start, appointment.clinic_id)
    link = appointment_link(appointment)
    clinic = appointment.clinic.name
    context = {
        "first_name": appointment.patient.given_name,
        "clinic": clinic,
        "when": when,
        "place": appointment_place(appointment),
        "link": link,
        "confirm_link": f"{link}?do=confirm",
        "cancel_link": f"{link}?do=cancel",
    }
    return ReminderMessage(
        subject=f"Reminder: your appointment at {clinic} on {when.date}",
        text=render_to_string("messaging/reminder_email.txt", context),
        html=render_to_string("messaging/reminder_email.html", context),
        sms_text=(
            f"{clinic}: reminder of your appointment {when.short} at "
            f"{appointment.schedule.location.name}. Confirm or cancel: {link}"
        ),
        attachments=(("appointment.ics", appointment_ics(appointment, now=now), "text/calendar"),),
    )
