from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import Personas
from frontdesk.accounts.models import User
from frontdesk.audit.services import SYSTEM_CONTEXT, AuditContext
from frontdesk.complaints.models import Category, Complaint
from frontdesk.complaints.services import complaint_log

LogComplaint = Callable[..., Complaint]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Letters filed to a patient's chart are written here, never beside the project."""
    settings.MEDIA_ROOT = tmp_path / "media"


def context_of(user: User) -> AuditContext:
    return AuditContext(user.pk, user.username, user.role, user.clinic_id, None, "", "test")


@pytest.fixture
def log_complaint(personas: Personas) -> LogComplaint:
    """A complaint logged through the service, by the desk's officer unless told otherwise."""

    def log(**overrides: Any) -> Complaint:
        user = overrides.pop("user", personas.front_desk)
        now = overrides.get("now") or timezone.now()
        values: dict[str, Any] = {
            "context": context_of(user) if user else SYSTEM_CONTEXT,
            "user": user,
            "patient": None,
            "occurred_on": (now - dt.timedelta(days=1)).date(),
            "category": Category.WAITING,
            "severity": "medium",
            "what_happened": "Waited ninety minutes past the appointment time without a word.",
            "patient_wants": "An apology and to be told when there is a delay.",
            "resolved_at_desk": False,
        }
        values.update(overrides)
        return complaint_log(**values)

    return log
