"""Shared steps for the inquiries tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from frontdesk.accounts.models import User
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.inquiries.models import Inquiry
from frontdesk.inquiries.services import CallRequest, inquiry_log
from frontdesk.patients.models import Patient


def log_call(
    user: User,
    patient: Patient | None,
    *,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Inquiry:
    values: dict[str, Any] = {
        "patient": patient,
        "channel": "phone",
        "caller_kind": "patient" if patient else "other",
        "contact_id": None,
        "caller_name": "" if patient else "Pat Caller",
        "caller_relationship": "",
        "category": "billing",
        "message": "Please call me about my bill.",
        "callback_phone": "(202) 555-0143",
        "preferred_time": "",
        "urgency": "routine",
        "callback_wanted": True,
    }
    values.update(fields)
    return inquiry_log(context=SYSTEM_CONTEXT, user=user, request=CallRequest(**values), now=now)


def rows(source: Any, clinic_id: int, now: dt.datetime) -> list[dict[str, Any]]:
    return list(source.rows(clinic_id=clinic_id, now=now))
