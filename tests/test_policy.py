"""Every URL pattern, for every role, checked against the one declared policy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from conftest import Personas, login_client, make_patient
from frontdesk.accounts.policy import POLICY, PUBLIC, Action, role_may
from frontdesk.accounts.roles import Role
from frontdesk.billing.models import LedgerEntry
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.messaging.models import OutboxMessage
from frontdesk.messaging.outbox import outbox_add
from frontdesk.patients.models import (
    Coverage,
    HouseholdLink,
    IdentityDocument,
    Patient,
    PatientAddress,
    PatientMerge,
    Payer,
    SupervisorNotice,
)
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentSeries,
    Block,
    BlockKind,
    ClinicHoliday,
    Schedule,
    ScheduleTemplate,
    SeriesVisit,
)


@dataclass(frozen=True)
class Samples:
    patient: Patient
    coverage: Coverage
    payer: Payer
    notice: SupervisorNotice
    other: Patient
    merge: PatientMerge
    appointment: Appointment


# Sample values for URL parameters. A new parameter name fails the test until it is added here.
SAMPLE_KWARGS: dict[str, Callable[[Samples], Any]] = {
    "patient_id": lambda s: s.patient.pk,
    "coverage_id": lambda s: s.coverage.pk,
    "payer_id": lambda s: s.payer.pk,
    "side": lambda s: "front",
    "field": lambda s: "phone",
    "notice_id": lambda s: s.notice.pk,
    "survivor_id": lambda s: s.patient.pk,
    "merged_id": lambda s: s.other.pk,
    "merge_id": lambda s: s.merge.pk,
    "appointment_id": lambda s: s.appointment.pk,
    "action": lambda s: "confirm",
    "type_id": lambda s: s.appointment.appointment_type_id,
    "template_id": lambda s: _sample_template(s),
    "block_id": lambda s: _sample_block(s),
    "holiday_id": lambda s: _sample_holiday(s),
    "token": lambda s: "not-a-real-token",
    "series_id": lambda s: _sample_series(s),
    "provider_id": lambda s: s.appointment.provider_id,
    "playbook_key": lambda s: "late_patient",
    "address_id": lambda s: _sample_address(s),
    "document_id": lambda s: _sample_document(s),
    "entry_id": lambda s: _sample_payment(s),
    "outbox_id": lambda s: _sample_outbox(s),
    "alert_id": lambda s: _sample_alert(s),
    "staff_id": lambda s: _sample_staff(s),
    # Calls, callbacks, contacts and medical questions (inquiries/).
    "call_id": lambda s: _sample_question(s).inquiry_id,
    "callback_id": lambda s: _sample_callback(s),
    "question_id": lambda s: _sample_question(s).pk,
    "contact_id": lambda s: _sample_contact(s),
    "complaint_id": lambda s: _sample_complaint(s),
    "item_id": lambda s: _sample_supply_item(s),
    "check_id": lambda s: _sample_eligibility_check(s),
    "file_id": lambda s: _sample_filed_document(s),
    "referral_id": lambda s: _sample_referral(s),
    "practice_id": lambda s: _sample_practice(s),
    # A kind of letter (letters/).
    "letter_kind": lambda s: "appointment_confirmation",
    "request_id": lambda s: _sample_records_request(s),
    # The desk queue's items: a kind and the source's row.
    "kind": lambda s: "unconfirmed",
    "ref_id": lambda s: s.appointment.pk,
    "drawer_id": lambda s: _sample_drawer(s),
    # A household link between the sample patient and the other.
    "link_id": lambda s: _sample_household_link(s),
}


def _sample_household_link(s: Samples) -> int:
    link, _ = HouseholdLink.objects.get_or_create(
        patient_low_id=min(s.patient.pk, s.other.pk),
        patient_high_id=max(s.patient.pk, s.other.pk),
        defaults={
            "clinic_id": s.patient.clinic_id,
            "found_by": "by_hand",
            "created_at": timezone.now(),
        },
    )
    return link.pk


def _sample_question(s: Samples) -> Any:
    """A logged call holding a medical question (inquiries/)."""
    from frontdesk.audit.services import SYSTEM_CONTEXT
    from frontdesk.inquiries.models import MedicalQuestion
    from frontdesk.inquiries.services import CallRequest, inquiry_log

    held = MedicalQuestion.objects.filter(patient=s.patient).first()
    if held is not None:
        return held
    desk = s.patient.clinic.staff.filter(role=Role.FRONT_DESK).first()
    inquiry = inquiry_log(
        context=SYSTEM_CONTEXT,
        user=desk,
        request=CallRequest(
            patient=s.patient,
            channel="phone",
            caller_kind="patient",
            contact_id=None,
            caller_name="",
            caller_relationship="",
            category="medical_question",
            message="Can I take ibuprofen with my new tablets?",
            callback_phone="",
            preferred_time="",
            urgency="routine",
            callback_wanted=False,
        ),
    )
    return MedicalQuestion.objects.get(inquiry=inquiry)


def _sample_callback(s: Samples) -> int:
    from frontdesk.audit.services import SYSTEM_CONTEXT
    from frontdesk.inquiries.models import Callback
    from frontdesk.inquiries.services import CallRequest, inquiry_log

    held = Callback.objects.filter(patient=s.patient).first()
    if held is not None:
        return held.pk
    desk = s.patient.clinic.staff.filter(role=Role.FRONT_DESK).first()
    inquiry = inquiry_log(
        context=SYSTEM_CONTEXT,
        user=desk,
        request=CallRequest(
            patient=s.patient,
            channel="phone",
            caller_kind="patient",
            contact_id=None,
            caller_name="",
            caller_relationship="",
            category="billing",
            message="Please call about my bill.",
            callback_phone="+12025550143",
            preferred_time="",
            urgency="routine",
            callback_wanted=True,
        ),
    )
    return Callback.objects.get(inquiry=inquiry).pk


def _sample_contact(s: Samples) -> int:
    from frontdesk.inquiries.models import PatientContact

    held = PatientContact.objects.filter(patient=s.patient).first()
    if held is not None:
        return held.pk
    return PatientContact.objects.create(
        clinic_id=s.patient.clinic_id,
        patient=s.patient,
        name="Mary Smith",
        relationship="parent",
        may_hear="appointments",
        created_at=timezone.now(),
        updated_at=timezone.now(),
    ).pk


def _sample_complaint(s: Samples) -> int:
    """A grievance about the sample patient's wait, logged by the desk's officer."""
    from frontdesk.accounts.models import User
    from frontdesk.complaints.models import Complaint

    held = Complaint.objects.filter(patient=s.patient).first()
    if held is not None:
        return held.pk
    now = timezone.now()
    return Complaint.objects.create(
        clinic_id=s.patient.clinic_id,
        patient=s.patient,
        logged_by=User.objects.get(username="alice"),
        created_at=now,
        occurred_on=now.date(),
        category="waiting",
        severity="low",
        what_happened="Waited an hour",
        status="awaiting_acknowledgement",
        acknowledge_due=now + dt.timedelta(days=2),
        response_due=now + dt.timedelta(days=7),
    ).pk


def _sample_supply_item(s: Samples) -> int:
    from frontdesk.supplies.models import SupplyItem

    held = SupplyItem.objects.filter(clinic_id=s.patient.clinic_id).first()
    if held is not None:
        return held.pk
    return SupplyItem.objects.create(
        clinic_id=s.patient.clinic_id,
        name="Printer paper",
        unit="ream",
        par_level=10,
        on_hand=4,
        supplier="Office Depot",
        created_at=timezone.now(),
    ).pk


def _sample_eligibility_check(s: Samples) -> int:
    from frontdesk.eligibility.models import CheckReason, EligibilityCheck

    held = EligibilityCheck.objects.filter(coverage=s.coverage).first()
    if held is not None:
        return held.pk
    return EligibilityCheck.objects.create(
        clinic_id=s.patient.clinic_id,
        patient=s.patient,
        coverage=s.coverage,
        date_of_service=timezone.now().date(),
        reason=CheckReason.BATCH,
        trace="ECSAMPLE",
        requested_at=timezone.now(),
        next_attempt_at=timezone.now(),
    ).pk


def _sample_filed_document(s: Samples) -> int:
    from frontdesk.documents.models import Document

    document, _ = Document.objects.get_or_create(
        clinic_id=s.patient.clinic_id,
        file="documents/sample.pdf",
        defaults={
            "patient": s.patient,
            "kind": "consent",
            "content_type": "application/pdf",
            "size": 1,
            "received_at": timezone.now(),
        },
    )
    return document.pk


def _sample_referral(s: Samples) -> int:
    from frontdesk.referrals.models import Referral

    referral, _ = Referral.objects.get_or_create(
        clinic_id=s.patient.clinic_id,
        patient=s.patient,
        defaults={
            "direction": "incoming",
            "status": "received",
            "reason": "Sample",
            "provider_name": "Dr Sample",
            "received_at": timezone.now(),
            "due_at": timezone.now(),
        },
    )
    return referral.pk


def _sample_records_request(s: Samples) -> int:
    from frontdesk.records.models import RecordsRequest

    request, _ = RecordsRequest.objects.get_or_create(
        clinic_id=s.patient.clinic_id,
        patient=s.patient,
        defaults={
            "status": "received",
            "requester": "patient",
            "record_kinds": ["visit_notes"],
            "delivery": "pickup",
            "received_at": timezone.now(),
            "due_at": timezone.now() + dt.timedelta(days=30),
        },
    )
    return request.pk


def _sample_practice(s: Samples) -> int:
    from frontdesk.referrals.models import Practice

    practice, _ = Practice.objects.get_or_create(
        clinic_id=s.patient.clinic_id,
        name="Sample Cardiology",
        defaults={"specialty": "Cardiology"},
    )
    return practice.pk


def _sample_drawer(s: Samples) -> int:
    """A closed drawer of the sample clinic with a variance beyond tolerance: its page shows
    the close-out and, to supervisors, the review form."""
    from frontdesk.audit.services import SYSTEM_CONTEXT
    from frontdesk.billing.drawer import drawer_close
    from frontdesk.billing.models import CashDrawer

    held = CashDrawer.objects.filter(officer__username="sample-drawer").first()
    if held is not None:
        return held.pk
    from conftest import PASSWORD, open_drawer
    from frontdesk.accounts.services import staff_create

    officer = staff_create(
        clinic=s.patient.clinic,
        username="sample-drawer",
        password=PASSWORD,
        role=Role.FRONT_DESK,
        first_name="Dee",
        last_name="Rawer",
    )
    drawer = open_drawer(officer, opening_float="50.00")
    drawer_close(
        context=SYSTEM_CONTEXT,
        user=officer,
        drawer_id=drawer.pk,
        counts={"d20": 2},
        reason="Short by ten",
        now=timezone.now(),
    )
    return drawer.pk


def _sample_staff(s: Samples) -> int:
    """A member of the clinic's staff for the administrators' pages (not a persona, so a lock
    or a deactivation walked by a test changes no one else's sign-in)."""
    from conftest import PASSWORD
    from frontdesk.accounts.models import User
    from frontdesk.accounts.services import staff_create

    held = User.objects.filter(username="sample-staff").first()
    if held is not None:
        return held.pk
    return staff_create(
        clinic=s.patient.clinic,
        username="sample-staff",
        password=PASSWORD,
        role=Role.FRONT_DESK,
        first_name="Sam",
        last_name="Ple",
    ).pk


def _sample_alert(s: Samples) -> int:
    from frontdesk.audit.services import SYSTEM_CONTEXT
    from frontdesk.flow.models import EmergencyAlert
    from frontdesk.flow.services import walk_in_check_in

    held = EmergencyAlert.objects.filter(entry__patient=s.other).first()
    if held is not None:
        return held.pk
    entry = walk_in_check_in(
        context=SYSTEM_CONTEXT,
        user=None,  # type: ignore[arg-type]
        patient=s.other,
        priority="emergency",  # type: ignore[arg-type]
        priority_reason="Chest pain",
    )
    return EmergencyAlert.objects.get(entry=entry).pk


def _sample_outbox(s: Samples) -> int:
    message = outbox_add(kind="reminder", object_id=0, patient=s.patient, key="sample:1")
    return message.pk if message is not None else OutboxMessage.objects.get(key="sample:1").pk


def _sample_payment(s: Samples) -> int:
    entry = LedgerEntry.objects.create(
        clinic_id=s.patient.clinic_id,
        patient=s.patient,
        kind="payment",
        amount="10.00",
        description="Payment at check-in",
        method="cash",
        created_at=timezone.now(),
    )
    return entry.pk


def _sample_address(s: Samples) -> int:
    return PatientAddress.objects.create(
        patient=s.patient,
        kind="mailing",
        address_line1="PO Box 12",
        city="Springfield",
        created_at=timezone.now(),
        updated_at=timezone.now(),
    ).pk


def _sample_document(s: Samples) -> int:
    document, _ = IdentityDocument.objects.get_or_create(
        clinic_id=s.patient.clinic_id,
        number=f"X{s.patient.pk:08d}",
        kind="passport",
        issuing_country="US",
        issuing_state="",
        defaults={"patient": s.patient, "created_at": timezone.now(), "updated_at": timezone.now()},
    )
    return document.pk


def _sample_series(s: Samples) -> int:
    """A weekly series whose first visit is the sample appointment, the second in conflict."""
    held = SeriesVisit.objects.filter(appointment=s.appointment).first()
    if held is not None:
        return held.series_id
    first = timezone.localtime(s.appointment.start)
    series = AppointmentSeries.objects.create(
        patient=s.patient,
        schedule=s.appointment.schedule,
        appointment_type=s.appointment.appointment_type,
        rrule=f"DTSTART:{first:%Y%m%dT%H%M%S}\nRRULE:FREQ=WEEKLY;COUNT=2",
        count=2,
        created_at=timezone.now(),
    )
    Appointment.objects.filter(pk=s.appointment.pk).update(
        series=series, note="Series visit 1 of 2"
    )
    SeriesVisit.objects.create(
        series=series,
        position=1,
        planned_start=s.appointment.start,
        status="booked",
        appointment=s.appointment,
    )
    SeriesVisit.objects.create(
        series=series,
        position=2,
        planned_start=s.appointment.start + dt.timedelta(weeks=1),
        status="conflict",
        conflict_reason="The provider already has an appointment then",
    )
    return series.pk


def _sample_template(s: Samples) -> int:
    return ScheduleTemplate.objects.create(
        schedule=s.appointment.schedule,
        rrule="FREQ=WEEKLY;BYDAY=MO",
        start_time=dt.time(9),
        end_time=dt.time(12),
        valid_from=timezone.localdate(),
    ).pk


def _sample_block(s: Samples) -> int:
    start = timezone.now() + dt.timedelta(days=3)
    return Block.objects.create(
        schedule=s.appointment.schedule,
        kind=BlockKind.ADHOC,
        start=start,
        end=start + dt.timedelta(hours=1),
    ).pk


def _sample_holiday(s: Samples) -> int:
    return ClinicHoliday.objects.create(
        clinic=s.appointment.clinic, date=timezone.localdate(), name="Sample day"
    ).pk


@pytest.fixture
def samples(personas: Personas, patient: Patient) -> Samples:
    payer = Payer.objects.create(clinic=personas.clinic, name="Sample Health")
    coverage = Coverage.objects.create(patient=patient, payer=payer, rank=1, member_id="S1")
    notice = SupervisorNotice.objects.create(
        clinic=personas.clinic, created_at=timezone.now(), text="sample"
    )
    other = make_patient(personas.clinic, given_name="Jon")
    folded = make_patient(personas.clinic, given_name="Johnny")
    merge = PatientMerge.objects.create(
        survivor=other,
        merged=folded,
        merged_at=timezone.now(),
        merged_by=personas.supervisor,
        survivor_before={},
        moved={},
    )
    location = Location.objects.create(clinic=personas.clinic, name="Sample site")
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Sam", family_name="Ple", specialty="Family"
    )
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    kind = AppointmentType.objects.create(
        clinic=personas.clinic, name="Sample visit", duration_minutes=20
    )
    start = timezone.now() + dt.timedelta(days=2)
    appointment = Appointment.objects.create(
        clinic=personas.clinic,
        patient=patient,
        schedule=schedule,
        provider=provider,
        appointment_type=kind,
        start=start,
        end=start + dt.timedelta(minutes=20),
        busy_start=start,
        busy_end=start + dt.timedelta(minutes=20),
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return Samples(patient, coverage, payer, notice, other, merge, appointment)


@dataclass(frozen=True)
class Route:
    name: str
    callback: Callable[..., Any]
    parameters: tuple[str, ...]


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            assert entry.name, f"URL pattern {entry.pattern} has no name; every URL needs one."
            parameters = (
                tuple(entry.pattern.converters) if hasattr(entry.pattern, "converters") else ()
            )
            yield Route(f"{namespace}{entry.name}", entry.callback, parameters)


ROUTES = list(_walk(get_resolver().url_patterns))


def _url(route: Route, samples: Samples) -> str:
    missing = [p for p in route.parameters if p not in SAMPLE_KWARGS]
    assert not missing, f"{route.name}: add sample values for {missing} to SAMPLE_KWARGS"
    return reverse(route.name, kwargs={p: SAMPLE_KWARGS[p](samples) for p in route.parameters})


def test_it_finds_the_project_urls() -> None:
    names = {route.name for route in ROUTES}
    assert {"home", "accounts:login", "patients:search", "patients:chart"} <= names


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_every_url_declares_a_policy_action(route: Route) -> None:
    action = getattr(route.callback, "policy_action", None)
    assert action is not None, (
        f"{route.name} has no declared policy: decorate it with @policy(Action.X) or @public"
    )
    assert action == PUBLIC or action in POLICY


def test_every_policy_action_names_only_real_roles() -> None:
    for action, roles in POLICY.items():
        assert roles <= set(Role), action


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_each_role_is_allowed_or_denied_as_the_policy_says(
    route: Route, personas: Personas, samples: Samples
) -> None:
    url = _url(route, samples)
    action = route.callback.policy_action  # type: ignore[attr-defined]
    login_url = reverse("accounts:login")

    anonymous = Client().get(url)
    if action == PUBLIC:
        assert anonymous.status_code != 403
    else:
        assert anonymous.status_code == 302, f"anonymous reached {url}"
        assert anonymous["Location"].startswith(login_url)

    for role, user in personas.by_role().items():
        response = login_client(Client(), user).get(url)
        if action == PUBLIC or role_may(role, Action(action)):
            assert response.status_code != 403, f"{role} was refused {url}"
            location = response.get("Location", "")
            assert not location.startswith(login_url), f"{role} was sent to sign in at {url}"
            assert response.status_code < 500
        else:
            assert response.status_code == 403, f"{role} got {response.status_code} at {url}"


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if "patient_id" in r.parameters],
    ids=[r.name for r in ROUTES if "patient_id" in r.parameters],
)
def test_staff_of_another_clinic_cannot_reach_this_clinics_patients(
    route: Route, personas: Personas, samples: Samples
) -> None:
    client = login_client(Client(), personas.outsider)
    response = client.get(_url(route, samples))
    if response.status_code == 405:  # POST-only: try it the way it is meant to be used
        response = client.post(_url(route, samples))
    assert response.status_code in (403, 404)
    assert samples.patient.family_name.encode() not in response.content


def test_write_offs_are_for_billing_and_supervisors_and_the_desk_takes_payments() -> None:
    assert {r for r in Role if role_may(r, Action.BILLING_ADJUST)} == {
        Role.BILLING,
        Role.SUPERVISOR,
    }
    assert role_may(Role.FRONT_DESK, Action.BILLING_POST)
    assert reverse("billing:entry_add", args=[1]).endswith("/entries/new/")
    assert get_resolver().resolve("/billing/patients/1/entries/new/").func.policy_action == (  # type: ignore[attr-defined]
        Action.BILLING_ADJUST
    )


def test_a_credit_posted_by_the_desk_is_refused_and_changes_nothing(
    personas: Personas, samples: Samples
) -> None:
    url = reverse("billing:entry_add", args=[samples.patient.pk])
    credit = {"kind": "credit", "amount": "25.00", "reason": "Write-off"}
    before = LedgerEntry.objects.count()
    for role, user in personas.by_role().items():
        response = login_client(Client(), user).post(url, credit)
        if role in (Role.BILLING, Role.SUPERVISOR):
            assert response.status_code == 302, role
        else:
            assert response.status_code == 403, role
    assert LedgerEntry.objects.count() == before + 2
    assert set(LedgerEntry.objects.values_list("created_by__role", flat=True)) == {
        Role.BILLING,
        Role.SUPERVISOR,
    }
