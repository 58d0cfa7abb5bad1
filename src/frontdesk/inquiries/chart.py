"""The patient's contacts and representatives, their usual provider, their medical questions'
threads and recent calls on the chart (patients/chart.py): five queries at most, covered by the
chart's VIEW event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, role_may
from frontdesk.inquiries.models import Inquiry, MedicalQuestion, PatientContact
from frontdesk.inquiries.selectors import chart_threads
from frontdesk.patients.chart import ChartPart, chart_part_register
from frontdesk.patients.models import Patient


@dataclass(frozen=True)
class InquiriesPart:
    contacts: list[PatientContact]
    questions: list[MedicalQuestion]
    calls: list[Inquiry]
    usual_provider: str
    usual_provider_id: int | None
    providers: list[tuple[int, str]]
    can_manage: bool
    can_log: bool
    may_see: bool


def chart_inquiries(*, user: User, patient: Patient, now: dt.datetime, today: dt.date) -> ChartPart:
    threads = chart_threads(user, patient)
    alerts = []
    waiting = [q for q in threads.questions if q.red_flag and q.status == "requested"]
    if waiting:
        alerts.append("Red-flag medical question waiting for a clinician")
    part = InquiriesPart(
        contacts=threads.contacts,
        questions=threads.questions,
        calls=threads.calls,
        usual_provider=threads.usual_provider,
        usual_provider_id=threads.usual_provider_id,
        providers=threads.providers,
        can_manage=role_may(user.role, Action.CONTACT_MANAGE),
        can_log=role_may(user.role, Action.INQUIRY_LOG),
        may_see=role_may(user.role, Action.INQUIRY_VIEW),
    )
    return ChartPart(context={"inquiries_part": part}, alerts=alerts)


chart_part_register("inquiries", chart_inquiries)
