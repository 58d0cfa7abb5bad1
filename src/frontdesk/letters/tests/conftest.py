from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import Personas
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.patients.models import Patient
from frontdesk.scheduling.models import Appointment, Schedule


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def visit(personas: Personas, patient: Patient, start: dt.datetime) -> Appointment:
    """A 30-minute visit with Dr Mei Lee at the Main Street office."""
    location, _ = Location.objects.get_or_create(
        clinic=personas.clinic,
        name="Main Street office",
        defaults={"address": "12 Main Street, Springfield", "phone": "(202) 555-0100"},
    )
    provider, _ = Provider.objects.get_or_create(
        clinic=personas.clinic, given_name="Mei", family_name="Lee", defaults={"credentials": "MD"}
    )
    schedule, _ = Schedule.objects.get_or_create(
        clinic=personas.clinic, provider=provider, location=location
    )
    kind, _ = AppointmentType.objects.get_or_create(
        clinic=personas.clinic, name="Follow-up", defaults={"duration_minutes": 30}
    )
    end = start + dt.timedelta(minutes=30)
    return Appointment.objects.create(
        clinic=personas.clinic,
        patient=patient,
        schedule=schedule,
        provider=provider,
        appointment_type=kind,
        start=start,
        end=end,
        busy_start=start,
        busy_end=end,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
