"""Every way into one restricted patient's records asks for a reason first.

The test builds one restricted patient of the clinic with something behind every kind of id a
URL takes (appointments, a queue entry, a payment, a waitlist entry and its offer, a series,
insurance with a card image, an address, an identity document, a merge), then walks every URL
pattern from the resolver: each id is filled from that patient's records by parameter name, and
a pattern with a parameter the test does not know fails it, so a new URL cannot slip through.
Every role, GET and POST (an empty form), must meet the break-the-glass page or a refusal
(403, 404, 405), never the patient's name, and nothing may change. With a live grant the same
pages open.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from PIL import Image

from conftest import Personas, login_client, make_patient
from frontdesk.accounts.models import User
from frontdesk.accounts.policy import PUBLIC, Action, role_may
from frontdesk.accounts.roles import Role
from frontdesk.audit.models import AuditEventPatient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing.models import LedgerEntry
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.documents.models import Document, DocumentMove
from frontdesk.documents.services import documents_upload
from frontdesk.documents.storage import Upload
from frontdesk.flow import services as flow_services
from frontdesk.flow.models import IncompleteRegistration, QueueEntry, QueueEvent
from frontdesk.patients.merging import patient_merge
from frontdesk.patients.models import (
    BreakGlassGrant,
    Coverage,
    HouseholdLink,
    IdentityDocument,
    Patient,
    PatientAddress,
    PatientMerge,
    Payer,
    SupervisorNotice,
)
from frontdesk.referrals.models import Referral
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentHistory,
    AppointmentSeries,
    Schedule,
    ScheduleTemplate,
    SeriesVisit,
    WaitlistEntry,
    WaitlistOffer,
)
from frontdesk.scheduling.waitlist.entries import waitlist_entry_add
from frontdesk.scheduling.waitlist.terms import EntryRequest

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # Monday 10:00 in New York
SECRET = "Quillfeather"  # the restricted patient's family name: no page may show it
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def _pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (100, 130), "white").save(out, "PDF")
    return out.getvalue()


@dataclass(frozen=True)
class World:
    patient: Patient  # restricted
    other: Patient  # an ordinary patient of the same clinic
    appointment: Appointment  # booked, later this week
    visit: Appointment  # today, checked in
    queue_entry: QueueEntry
    payment: LedgerEntry
    entry: WaitlistEntry
    offer: WaitlistOffer
    series: AppointmentSeries
    coverage: Coverage
    address: PatientAddress
    document: IdentityDocument
    merge: PatientMerge
    incomplete: IncompleteRegistration
    notice: SupervisorNotice
    schedule: Schedule
    payer: Payer
    filed: Document  # a document filed to the patient, with its file and thumbnail
    referral: Referral


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _appointment(
    personas: Personas,
    patient: Patient,
    schedule: Schedule,
    kind: AppointmentType,
    start: dt.datetime,
) -> Appointment:
    end = start + dt.timedelta(minutes=kind.duration_minutes)
    return Appointment.objects.create(
        clinic=personas.clinic,
        patient=patient,
        schedule=schedule,
        provider=schedule.provider,
        appointment_type=kind,
        start=start,
        end=end,
        busy_start=start,
        busy_end=end,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def world(
    personas: Personas, clock: time_machine.Traveller, settings: Any, tmp_path: Path
) -> World:
    settings.MEDIA_ROOT = tmp_path
    clinic = personas.clinic
    secret = make_patient(
        clinic,
        given_name="Ysolde",
        family_name=SECRET,
        birth_date=dt.date(1979, 8, 14),
        email="ysolde@example.org",
        consent_email=True,
        confidentiality="restricted",
    )
    other = make_patient(clinic, given_name="Olaf", family_name="Ordinary")
    folded = make_patient(clinic, given_name="Ysolde", family_name="Quilfeather")
    location = Location.objects.create(clinic=clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=clinic, given_name="Mei", family_name="Lee", specialty="Family medicine"
    )
    provider.locations.add(location)
    schedule = Schedule.objects.create(clinic=clinic, provider=provider, location=location)
    ScheduleTemplate.objects.create(
        schedule=schedule,
        rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        start_time=dt.time(9),
        end_time=dt.time(17),
        valid_from=dt.date(2026, 1, 1),
    )
    kind = AppointmentType.objects.create(
        clinic=clinic, name="Follow-up visit", duration_minutes=20
    )
    appointment = _appointment(personas, secret, schedule, kind, NOW + dt.timedelta(days=2))
    visit = _appointment(personas, secret, schedule, kind, NOW + dt.timedelta(minutes=15))
    queue_entry = flow_services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=visit
    )
    payment = LedgerEntry.objects.create(
        clinic=clinic,
        patient=secret,
        kind="payment",
        amount=Decimal("25.00"),
        description="Payment at check-in",
        method="cash",
        created_at=NOW,
    )
    entry = waitlist_entry_add(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=secret,
        request=EntryRequest(
            appointment_type=kind,
            providers=[],
            location=None,
            earliest_date=dt.date(2026, 11, 24),
            latest_date=dt.date(2026, 12, 18),
            weekdays=[],
            time_of_day="",
            priority=2,
            note="",
            current_appointment=None,
        ),
    )
    offer = WaitlistOffer.objects.create(
        entry=entry,
        schedule=schedule,
        provider=provider,
        start=NOW + dt.timedelta(days=1),
        end=NOW + dt.timedelta(days=1, minutes=20),
        expires_at=NOW + dt.timedelta(hours=2),
        created_at=NOW,
        channel="email",
    )
    series = _series(personas, secret, schedule, kind)
    payer = Payer.objects.create(clinic=clinic, name="Acme Health")
    coverage = Coverage.objects.create(
        patient=secret,
        payer=payer,
        rank=1,
        member_id="QF-1",
        card_front=SimpleUploadedFile("card.png", PNG, "image/png"),
        card_back=SimpleUploadedFile("back.png", PNG, "image/png"),
    )
    address = PatientAddress.objects.create(
        patient=secret,
        kind="mailing",
        address_line1="PO Box 12",
        city="Springfield",
        created_at=NOW,
        updated_at=NOW,
    )
    document = IdentityDocument.objects.create(
        clinic_id=clinic.pk,
        patient=secret,
        kind="passport",
        number="QF1234567",
        issuing_country="US",
        created_at=NOW,
        updated_at=NOW,
    )
    merge = patient_merge(
        context=SYSTEM_CONTEXT,
        user=personas.supervisor,
        survivor=secret,
        merged=folded,
        take_from_merged=set(),
        reason="registered twice",
    )
    incomplete = IncompleteRegistration.objects.create(
        patient=secret, registered_at=NOW, registered_by=personas.front_desk
    )
    notice = SupervisorNotice.objects.create(
        clinic=clinic, created_at=NOW, patient=secret, text=f"Restricted record MRN {secret.mrn}"
    )
    (filed,) = documents_upload(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        clinic=clinic,
        uploads=[Upload("consent.pdf", _pdf())],
        patient=secret,
        kind="consent",
    )
    referral = Referral.objects.create(
        clinic=clinic,
        direction="incoming",
        patient=secret,
        status="accepted",
        reason="Assessment",
        provider_name="Dr Ada Grey",
        received_at=NOW,
        due_at=NOW + dt.timedelta(days=5),
    )
    _inquiries_of(personas, secret)
    _complaint_of(personas, secret)
    _records_request_of(secret)
    secret.refresh_from_db()
    return World(
        patient=secret,
        other=other,
        appointment=appointment,
        visit=visit,
        queue_entry=queue_entry,
        payment=payment,
        entry=entry,
        offer=offer,
        series=series,
        coverage=coverage,
        address=address,
        document=document,
        merge=merge,
        incomplete=incomplete,
        notice=notice,
        schedule=schedule,
        payer=payer,
        filed=filed,
        referral=referral,
    )


def _complaint_of(personas: Personas, patient: Patient) -> None:
    """A grievance about the patient's visit, logged by the desk for the supervisors."""
    from frontdesk.complaints.models import Category
    from frontdesk.complaints.services import complaint_log

    complaint_log(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        occurred_on=NOW.date(),
        category=Category.WAITING,
        severity="medium",
        what_happened="Waited an hour past the appointment time.",
        resolved_at_desk=False,
        now=NOW,
    )


def _inquiries_of(personas: Personas, patient: Patient) -> None:
    """A call with a callback, a medical question answered for the desk to relay, a contact."""
    from frontdesk.inquiries.models import PatientContact
    from frontdesk.inquiries.services import CallRequest, inquiry_log

    def call(category: str, message: str, wanted: bool) -> Any:
        return inquiry_log(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            request=CallRequest(
                patient=patient,
                channel="phone",
                caller_kind="patient",
                contact_id=None,
                caller_name="",
                caller_relationship="",
                category=category,
                message=message,
                callback_phone="+12025550143",
                preferred_time="",
                urgency="routine",
                callback_wanted=wanted,
            ),
            now=NOW,
        )

    call("billing", "Please call about the bill", True)
    asked = call("medical_question", "Is the rash catching?", False)
    # As a nurse's answer leaves it (the nurse would need a reason to open this record).
    asked.question.answer = "No; keep it covered."
    asked.question.answer_route = "desk"
    asked.question.status = "in-progress"
    asked.question.answered_by = personas.nurse
    asked.question.answered_at = NOW
    asked.question.save()
    PatientContact.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        name="Mother",
        relationship="parent",
        may_hear="appointments",
        created_at=NOW,
        updated_at=NOW,
    )


def _series(
    personas: Personas, patient: Patient, schedule: Schedule, kind: AppointmentType
) -> AppointmentSeries:
    """A weekly series: its first visit booked, the second in conflict."""
    first = _appointment(personas, patient, schedule, kind, NOW + dt.timedelta(days=3))
    series = AppointmentSeries.objects.create(
        patient=patient,
        schedule=schedule,
        appointment_type=kind,
        rrule="DTSTART:20261126T100000\nRRULE:FREQ=WEEKLY;COUNT=2",
        count=2,
        created_at=NOW,
    )
    Appointment.objects.filter(pk=first.pk).update(series=series, note="Series visit 1 of 2")
    SeriesVisit.objects.create(
        series=series, position=1, planned_start=first.start, status="booked", appointment=first
    )
    SeriesVisit.objects.create(
        series=series,
        position=2,
        planned_start=first.start + dt.timedelta(weeks=1),
        status="conflict",
        conflict_reason="The provider already has an appointment then",
    )
    return series


# --- The URL patterns ---------------------------------------------------------------------------

# Each parameter that leads to a patient's records, filled from the restricted patient's.
PATIENT_PARAMETERS: dict[str, Callable[[World], Any]] = {
    "patient_id": lambda w: w.patient.pk,
    "appointment_id": lambda w: w.appointment.pk,
    "coverage_id": lambda w: w.coverage.pk,
    "address_id": lambda w: w.address.pk,
    "document_id": lambda w: w.document.pk,
    "survivor_id": lambda w: w.patient.pk,
    "merged_id": lambda w: w.other.pk,
    "merge_id": lambda w: w.merge.pk,
    "series_id": lambda w: w.series.pk,
    "entry_id": lambda w: w.entry.pk,
    "check_id": lambda w: _eligibility_check(w),
    "file_id": lambda w: w.filed.pk,
    "referral_id": lambda w: w.referral.pk,
    "request_id": lambda w: _records_request_of(w.patient),
    # Calls, callbacks, questions and contacts (inquiries/), made by `_inquiries_of`.
    "complaint_id": lambda w: _complaint_model().objects.get(patient=w.patient).pk,
    "call_id": lambda w: (
        _inquiry_model("Inquiry").objects.get(patient=w.patient, category="billing").pk
    ),
    "callback_id": lambda w: _inquiry_model("Callback").objects.get(patient=w.patient).pk,
    "question_id": lambda w: _inquiry_model("MedicalQuestion").objects.get(patient=w.patient).pk,
    "contact_id": lambda w: _inquiry_model("PatientContact").objects.get(patient=w.patient).pk,
    # A household link between the restricted patient and the other.
    "link_id": lambda w: _household_link(w),
}


def _household_link(w: World) -> int:
    link, _ = HouseholdLink.objects.get_or_create(
        patient_low_id=min(w.patient.pk, w.other.pk),
        patient_high_id=max(w.patient.pk, w.other.pk),
        defaults={"clinic_id": w.patient.clinic_id, "found_by": "by_hand", "created_at": NOW},
    )
    return link.pk


def _eligibility_check(w: World) -> int:
    """An eligibility check of the restricted patient's coverage (its raw 271 is PHI)."""
    from frontdesk.eligibility.models import CheckReason, EligibilityCheck

    held = EligibilityCheck.objects.filter(coverage=w.coverage).first()
    if held is not None:
        return held.pk
    return EligibilityCheck.objects.create(
        clinic_id=w.patient.clinic_id,
        patient=w.patient,
        coverage=w.coverage,
        date_of_service=NOW.date(),
        reason=CheckReason.BATCH,
        trace="ECRESTRICTED",
        requested_at=NOW,
        next_attempt_at=NOW,
    ).pk


def _records_request_of(patient: Patient) -> int:
    """A request for the restricted patient's records (records/)."""
    from frontdesk.records.models import RecordsRequest

    request, _ = RecordsRequest.objects.get_or_create(
        patient=patient,
        defaults={
            "clinic_id": patient.clinic_id,
            "status": "received",
            "requester": "patient",
            "record_kinds": ["visit_notes"],
            "delivery": "pickup",
            "received_at": NOW,
            "due_at": NOW + dt.timedelta(days=30),
        },
    )
    return request.pk


def _records_model(name: str) -> Any:
    from django.apps import apps

    return apps.get_model("records", name)


def _complaint_model() -> Any:
    from frontdesk.complaints.models import Complaint

    return Complaint


def _inquiry_model(name: str) -> Any:
    from django.apps import apps

    return apps.get_model("inquiries", name)


# Where one parameter name means different records on different pages, or one page needs a
# particular record, the page's own choice wins.
ROUTE_PARAMETERS: dict[tuple[str, str], Callable[[World], Any]] = {
    ("billing:receipt", "entry_id"): lambda w: w.payment.pk,
    ("billing:payment_void", "entry_id"): lambda w: w.payment.pk,
    ("billing:payment_refund", "entry_id"): lambda w: w.payment.pk,
    ("flow:check_in", "appointment_id"): lambda w: w.visit.pk,
    ("flow:check_out", "appointment_id"): lambda w: w.visit.pk,
}

# Parameters that are not ids, with the values each page is walked with.
VALUE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "side": ("front", "back"),
    "field": ("birth_date", "phone", "document-{document}"),
    # A referral's steps (referrals/urls.py): one that changes it, and its last.
    "action": ("accept", "report-sent"),
}

# Parameters that reach no patient's record, and why. A route with only these is not walked.
NOT_A_PATIENT: dict[str, str] = {
    "provider_id": "a provider's calendar feed holds no patient data",
    "payer_id": "the payer table holds no patient data",
    # An item of the desk queue names its patient as the queue's list does (a restricted record
    # by MRN alone, desk/sources.py `desk_patient_label`) and opens nothing of the record.
    "kind": "a kind of desk work",
    "ref_id": "an item of the desk queue, shown as on the queue's list",
    "item_id": "an office supply: no patient data",
    "type_id": "an appointment type",
    "template_id": "a provider's weekly hours",
    "block_id": "reserved or blocked time",
    "holiday_id": "a clinic holiday",
    "playbook_key": "a standard procedure of the desk",
    "token": "a patient's own signed link: the token is the credential, not an id",
    # The supervisor's notice names the MRN only; acknowledging it opens nothing of the record
    # (every notice of a broken glass is about a restricted patient).
    "notice_id": "a supervisor's notice, acknowledged without opening the record",
    # Sending again or cancelling an unsent message shows nothing of the record and changes only
    # the message's delivery; the list of unsent messages is audited when it names patients.
    "outbox_id": "an unsent message, retried or cancelled without opening the record",
    # "I am going" shows nothing of the record (the banner names the ticket and the reason):
    # an emergency of a restricted patient must reach a clinician without a reason first.
    "alert_id": "an emergency alert, acknowledged without opening the record",
    "staff_id": "a member of staff's account (the administrators' staff pages)",
    "practice_id": "a practice of the clinic's referral directory holds no patient data",
    "letter_kind": "a letter template of the clinic: no patient data",
    # Drawer pages show amounts, methods and officers; a line links to its receipt, which is
    # where a patient's name appears (walked above as billing:receipt).
    "drawer_id": "a cash drawer: amounts, methods and officers, no patient data",
}

# The break-the-glass page itself shows the MRN, and nothing more, to whoever may ask.
BREAK_GLASS_ROUTE = "patients:break_glass"


@dataclass(frozen=True)
class Route:
    name: str
    parameters: tuple[str, ...]


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            converters = getattr(entry.pattern, "converters", {})
            yield Route(f"{namespace}{entry.name}", tuple(converters))


ROUTES = list(_walk(get_resolver().url_patterns))


def _known(parameter: str) -> bool:
    return (
        parameter in PATIENT_PARAMETERS
        or parameter in VALUE_PARAMETERS
        or parameter in NOT_A_PATIENT
    )


def _reaches_a_patient(route: Route) -> bool:
    return any(p in PATIENT_PARAMETERS for p in route.parameters)


WALKED = [r for r in ROUTES if _reaches_a_patient(r) and r.name != BREAK_GLASS_ROUTE]


def _urls(route: Route, world: World) -> list[str]:
    """The route's URLs for the restricted patient: one per value of a value parameter."""
    kwargs: list[dict[str, Any]] = [{}]
    for parameter in route.parameters:
        pick = ROUTE_PARAMETERS.get((route.name, parameter)) or PATIENT_PARAMETERS.get(parameter)
        if pick is not None:
            kwargs = [{**k, parameter: pick(world)} for k in kwargs]
        else:
            values = [v.format(document=world.document.pk) for v in VALUE_PARAMETERS[parameter]]
            kwargs = [{**k, parameter: v} for k in kwargs for v in values]
    urls = [reverse(route.name, kwargs=k) for k in kwargs]
    if route.name == "patients:merge_compare":  # the restricted record as the duplicate too
        urls.append(
            reverse(
                route.name, kwargs={"survivor_id": world.other.pk, "merged_id": world.patient.pk}
            )
        )
    return urls


# Ids that pages take from a form or the query string rather than the path.
FORM_CASES: list[tuple[str, str, Callable[[World], dict[str, Any]]]] = [
    (
        "flow:board_move",
        "post",
        lambda w: {"entry": w.queue_entry.pk, "to": "called", "expected": "waiting"},
    ),
    ("flow:registration_complete", "post", lambda w: {"record": w.incomplete.pk}),
    ("scheduling:waitlist_remove", "post", lambda w: {"entry": w.entry.pk}),
    (
        "scheduling:waitlist_book",
        "post",
        lambda w: {
            "entry": w.entry.pk,
            "schedule": w.schedule.pk,
            "start": "2026-11-24T14:00:00+00:00",
            "end": "2026-11-24T14:20:00+00:00",
            "at": "2026-11-24T14:00:00+00:00",
        },
    ),
    ("scheduling:waitlist_slot", "get", lambda w: {"appointment": w.appointment.pk}),
    ("scheduling:waitlist_slot_offer", "post", lambda w: {"appointment": w.appointment.pk}),
    ("inquiries:call_new", "get", lambda w: {"patient": w.patient.pk}),
    ("records:new", "get", lambda w: {"patient": w.patient.pk}),
    (
        "records:new",
        "post",
        lambda w: {
            "patient": w.patient.pk,
            "requester": "patient",
            "record_kinds": ["visit_notes"],
            "delivery": "pickup",
        },
    ),
    (
        "inquiries:call_new",
        "post",
        lambda w: {
            "patient": w.patient.pk,
            "caller": "patient",
            "category": "billing",
            "message": "About my bill",
            "callback_phone": "+12025550143",
            "callback_wanted": "on",
        },
    ),
]

# Pages of another patient that take one of the restricted patient's appointments by query.
OTHER_PATIENT_CASES: list[tuple[str, Callable[[World], dict[str, Any]]]] = [
    ("scheduling:find", lambda w: {"appointment": w.appointment.pk}),
    ("scheduling:waitlist_add", lambda w: {"appointment": w.appointment.pk}),
]


def _snapshot(world: World) -> dict[str, Any]:
    """Every row that a page reaching the patient could change."""
    models: list[type[Model]] = [
        Patient,
        Appointment,
        AppointmentHistory,
        QueueEntry,
        QueueEvent,
        LedgerEntry,
        WaitlistEntry,
        WaitlistOffer,
        AppointmentSeries,
        SeriesVisit,
        Coverage,
        PatientAddress,
        IdentityDocument,
        PatientMerge,
        IncompleteRegistration,
        SupervisorNotice,
        BreakGlassGrant,
        Document,
        DocumentMove,
        Referral,
        *(
            _inquiry_model(name)
            for name in (
                "Inquiry",
                "Callback",
                "CallbackAttempt",
                "MedicalQuestion",
                "PatientContact",
            )
        ),
        _complaint_model(),
        _records_model("RecordsRequest"),
        _records_model("Disclosure"),
    ]
    state: dict[str, Any] = {
        m.__name__: list(m._default_manager.order_by("pk").values()) for m in models
    }
    # A page that showed the patient would have recorded it.
    state["audit links"] = AuditEventPatient.objects.filter(
        patient_id_value=world.patient.pk
    ).count()
    return state


def _refused(response: HttpResponseBase, world: World) -> str | None:
    """None if the response is the break-the-glass page or a refusal; else what went wrong."""
    body = getattr(response, "content", b"")
    if SECRET.encode() in body or world.patient.given_name.encode() in body:
        return f"showed the patient's name ({response.status_code})"
    glass = reverse(BREAK_GLASS_ROUTE, kwargs={"patient_id": world.patient.pk})
    if response.status_code in (403, 404, 405):
        return None
    if response.status_code == 302 and response["Location"].startswith(glass):
        return None
    if response.status_code == 204 and response.get("HX-Redirect", "").startswith(glass):
        return None
    return f"answered {response.status_code} {response.get('Location', '')}".strip()


def _clients(personas: Personas) -> dict[str, Client]:
    users = {**personas.by_role(), "other clinic": personas.outsider}
    return {str(role): login_client(Client(), user) for role, user in users.items()}


def test_every_parameter_of_every_url_is_known_to_this_test() -> None:
    unknown = {(r.name, p) for r in ROUTES for p in r.parameters if not _known(p)}
    assert not unknown, (
        "Say how these URL parameters reach a patient (PATIENT_PARAMETERS) or why they do not "
        f"(NOT_A_PATIENT): {sorted(unknown)}"
    )


def test_it_walks_every_kind_of_record_that_reaches_a_patient() -> None:
    names = {r.name for r in WALKED}
    assert {
        "scheduling:appointment_confirm",
        "scheduling:appointment_cancel",
        "scheduling:appointment_no_show",
        "scheduling:appointment_move",
        "flow:check_in",
        "billing:receipt",
        "scheduling:waitlist_change",
        "scheduling:series_cancel",
        "patients:coverage_card",
        "patients:unmerge",
    } <= names


@pytest.mark.parametrize("route", WALKED, ids=[r.name for r in WALKED])
def test_a_restricted_patient_is_reached_through_no_url_without_a_reason(
    route: Route, personas: Personas, world: World
) -> None:
    before = _snapshot(world)
    problems = []
    for role, client in _clients(personas).items():
        for url in _urls(route, world):
            for method in ("get", "post"):
                response = getattr(client, method)(url, {})
                problem = _refused(response, world)
                if problem:
                    problems.append(f"{role} {method.upper()} {url}: {problem}")
    assert not problems, "\n".join(problems)
    assert _snapshot(world) == before, f"{route.name} changed records without a reason"


@pytest.mark.parametrize("case", FORM_CASES, ids=[c[0] for c in FORM_CASES])
def test_a_restricted_patient_is_reached_through_no_form_without_a_reason(
    case: tuple[str, str, Callable[[World], dict[str, Any]]], personas: Personas, world: World
) -> None:
    name, method, data = case
    before = _snapshot(world)
    problems = []
    for role, client in _clients(personas).items():
        response = getattr(client, method)(reverse(name), data(world))
        problem = _refused(response, world)
        if problem:
            problems.append(f"{role} {method.upper()} {name}: {problem}")
    assert not problems, "\n".join(problems)
    assert _snapshot(world) == before, f"{name} changed records without a reason"


@pytest.mark.parametrize("case", OTHER_PATIENT_CASES, ids=[c[0] for c in OTHER_PATIENT_CASES])
def test_another_patients_page_does_not_open_a_restricted_patients_appointment(
    case: tuple[str, Callable[[World], dict[str, Any]]], personas: Personas, world: World
) -> None:
    name, query = case
    url = reverse(name, kwargs={"patient_id": world.other.pk})
    client = login_client(Client(), personas.front_desk)
    problem = _refused(client.get(url, query(world)), world)
    assert problem is None, f"{name}: {problem}"


def test_confirming_a_restricted_patients_appointment_asks_for_a_reason_and_changes_nothing(
    personas: Personas, world: World
) -> None:
    client = login_client(Client(), personas.front_desk)
    url = reverse(
        "scheduling:appointment_confirm",
        kwargs={"appointment_id": world.appointment.pk},
    )

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == f"/patients/{world.patient.pk}/break-glass/"
    world.appointment.refresh_from_db()
    assert world.appointment.confirmed_at is None
    assert not AppointmentHistory.objects.filter(appointment=world.appointment).exists()


def test_cancelling_with_an_empty_form_shows_nothing_of_a_restricted_patient(
    personas: Personas, world: World
) -> None:
    client = login_client(Client(), personas.front_desk)
    url = reverse(
        "scheduling:appointment_cancel",
        kwargs={"appointment_id": world.appointment.pk},
    )

    response = client.post(url, {})

    assert SECRET not in response.content.decode()
    assert response.status_code == 302
    assert response["Location"].startswith(f"/patients/{world.patient.pk}/break-glass/")


def _grant(user: User, patient: Patient) -> None:
    BreakGlassGrant.objects.create(
        user=user,
        patient=patient,
        reason="the patient is at the desk",
        granted_at=NOW,
        expires_at=NOW + dt.timedelta(hours=1),
    )


# Pages whose records are narrower than the role: a complaint is confidential to supervisors, its
# owner and whoever logged it (complaints/selectors.py `complaints_visible`); the world's
# complaint was logged by the desk, and has no letter yet. Any other role gets a 404 even with a
# grant, and the role-level rule below is checked for the roles named here.
NARROWER_THAN_THE_ROLE: dict[str, frozenset[str]] = {
    "complaints:detail": frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    "complaints:letter": frozenset(),
}


@pytest.mark.parametrize("route", WALKED, ids=[r.name for r in WALKED])
def test_with_a_live_grant_the_same_pages_open(
    route: Route, personas: Personas, world: World
) -> None:
    glass = reverse(BREAK_GLASS_ROUTE, kwargs={"patient_id": world.patient.pk})
    problems = []
    for role, user in personas.by_role().items():
        _grant(user, world.patient)
        client = login_client(Client(), user)
        for url in _urls(route, world):
            action = resolve(url).func.policy_action  # type: ignore[attr-defined]
            allowed = action == PUBLIC or (
                role_may(role, Action(action)) and role_may(role, Action.PATIENT_VIEW)
            )
            response = client.get(url)
            location = response.get("Location", "")
            narrower = NARROWER_THAN_THE_ROLE.get(route.name)
            if allowed and narrower is not None and role not in narrower:
                if response.status_code not in (403, 404):
                    problems.append(f"{role} GET {url}: {response.status_code}, not 404")
                continue
            if not allowed:
                if response.status_code != 403:
                    problems.append(f"{role} GET {url}: {response.status_code}, not 403")
            elif response.status_code in (403, 404) or response.status_code >= 500:
                problems.append(f"{role} GET {url}: {response.status_code}")
            elif location.startswith(glass):
                problems.append(f"{role} GET {url}: asked for a reason again")
    assert not problems, "\n".join(problems)


def test_with_a_live_grant_the_desk_confirms_the_appointment(
    personas: Personas, world: World
) -> None:
    _grant(personas.front_desk, world.patient)
    client = login_client(Client(), personas.front_desk)
    url = reverse(
        "scheduling:appointment_confirm",
        kwargs={"appointment_id": world.appointment.pk},
    )

    response = client.post(url)

    assert response["Location"] == f"/schedule/appointments/{world.appointment.pk}/"
    world.appointment.refresh_from_db()
    assert world.appointment.confirmed_at == NOW


def test_with_a_live_grant_the_board_moves_the_patient(personas: Personas, world: World) -> None:
    _grant(personas.nurse, world.patient)
    client = login_client(Client(), personas.nurse)

    client.post(
        reverse("flow:board_move"),
        {"entry": world.queue_entry.pk, "to": "called", "expected": "waiting"},
    )

    world.queue_entry.refresh_from_db()
    assert world.queue_entry.status == "called"
