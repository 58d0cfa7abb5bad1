"""Referrals: NPIs checked, deadlines in business days across weekends and holidays, the status
path in and out, the desk queue, and authorisation warnings at booking and at check-in."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import Personas, make_patient
from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditEvent
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.desk.sources import desk_sources
from frontdesk.documents.models import Document
from frontdesk.documents.services import documents_upload
from frontdesk.documents.storage import Upload
from frontdesk.documents.tests.conftest import pdf_bytes
from frontdesk.flow.selectors import check_in_facts
from frontdesk.patients.models import Patient
from frontdesk.referrals import services
from frontdesk.referrals.models import Practice, Referral, ReferralStatus, ReferralTarget
from frontdesk.referrals.validation import clean_npi, npi_is_valid
from frontdesk.scheduling.models import Appointment, ClinicHoliday, Schedule
from frontdesk.scheduling.visit_warnings import visit_warnings

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
GOOD_NPI = "1234567893"  # CMS's own example of a valid NPI


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ny(personas: Personas) -> Personas:
    personas.clinic.time_zone = "America/New_York"
    personas.clinic.save()
    return personas


def _details(**changes: Any) -> services.IncomingDetails:
    values: dict[str, Any] = {
        "urgency": "routine",
        "reason": "Chest pain on exertion",
        "provider_name": "Dr Ada Grey",
        "practice_name": "Grey Family Practice",
        "npi": GOOD_NPI,
    }
    values.update(changes)
    return services.IncomingDetails(**values)


def _register(personas: Personas, patient: Patient, now: dt.datetime, **changes: Any) -> Referral:
    return services.referral_register(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        details=_details(**changes),
        now=now,
    )


def _appointment(personas: Personas, patient: Patient, start: dt.datetime) -> Appointment:
    location, _ = Location.objects.get_or_create(clinic=personas.clinic, name="Main")
    provider, _ = Provider.objects.get_or_create(
        clinic=personas.clinic, given_name="Mei", family_name="Lee"
    )
    schedule, _ = Schedule.objects.get_or_create(
        clinic=personas.clinic, provider=provider, location=location
    )
    kind, _ = AppointmentType.objects.get_or_create(
        clinic=personas.clinic, name="Consult", defaults={"duration_minutes": 30}
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


def test_an_npi_is_checked_by_its_luhn_digit_over_the_80840_prefix() -> None:
    assert npi_is_valid(GOOD_NPI)
    assert not npi_is_valid("1234567890")
    assert clean_npi("123 456 7893") == GOOD_NPI
    with pytest.raises(Exception, match="check digit is wrong"):
        clean_npi("1234567894")
    with pytest.raises(Exception, match="10 digits"):
        clean_npi("12345")


def test_a_routine_referral_is_due_in_five_business_days_across_a_weekend_and_a_holiday(
    ny: Personas, patient: Patient
) -> None:
    ClinicHoliday.objects.create(clinic=ny.clinic, date=dt.date(2026, 12, 25), name="Christmas")
    # Tuesday 22 December 2026, 10:00 New York: Wed 23, Thu 24, (Fri 25 holiday, weekend),
    # Mon 28, Tue 29, Wed 30.
    received = dt.datetime(2026, 12, 22, 10, 0, tzinfo=NEW_YORK)
    referral = _register(ny, patient, received)
    assert referral.due_at is not None
    assert referral.due_at.astimezone(NEW_YORK) == dt.datetime(2026, 12, 30, 10, tzinfo=NEW_YORK)


def test_an_urgent_referral_received_on_friday_evening_is_due_monday(
    ny: Personas, patient: Patient
) -> None:
    # 23:30 in New York on Friday is already Saturday in UTC: the clinic's date decides.
    received = dt.datetime(2026, 12, 4, 23, 30, tzinfo=NEW_YORK)
    referral = _register(ny, patient, received, urgency="urgent")
    assert referral.due_at is not None
    assert referral.due_at.astimezone(NEW_YORK).date() == dt.date(2026, 12, 7)


def test_a_clinic_sets_its_own_target(ny: Personas, patient: Patient) -> None:
    ReferralTarget.objects.create(clinic=ny.clinic, routine_days=2, urgent_days=1)
    received = dt.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)  # Monday
    referral = _register(ny, patient, received)
    assert referral.due_at is not None
    assert referral.due_at.astimezone(NEW_YORK).date() == dt.date(2026, 12, 9)


def test_an_unbooked_referral_is_on_the_desk_queue_until_it_is_booked(
    personas: Personas, patient: Patient
) -> None:
    source = desk_sources()["referral_unscheduled"]
    now = timezone.now()
    referral = _register(personas, patient, now, urgency="urgent")
    (row,) = source.rows(clinic_id=personas.clinic.pk, now=now)
    assert (row["ref"], row["patient_id"], row["red_flag"]) == (referral.pk, patient.pk, True)
    assert row["due"] == referral.due_at
    assert referral.due_at is not None
    later = referral.due_at + dt.timedelta(hours=1)
    entry = source.describe([referral.pk], now=later)[referral.pk]
    assert "past the clinic's target" in entry.detail
    assert entry.patient_label == f"{patient.family_name}, {patient.given_name} (MRN {patient.mrn})"
    services.referral_accept(context=SYSTEM_CONTEXT, user=personas.front_desk, referral=referral)
    assert source.rows(clinic_id=personas.clinic.pk, now=now).count() == 1
    visit = _appointment(personas, patient, now + dt.timedelta(days=2))
    services.referral_appointment_link(
        context=SYSTEM_CONTEXT, user=personas.front_desk, referral=referral, appointment=visit
    )
    assert not source.rows(clinic_id=personas.clinic.pk, now=now).exists()
    # Another clinic's desk never sees it.
    assert not source.rows(clinic_id=personas.other_clinic.pk, now=now).exists()


def test_the_incoming_path_runs_to_the_report_sent_and_each_step_is_audited(
    personas: Personas, patient: Patient
) -> None:
    now = timezone.now()
    referral = _register(personas, patient, now)
    user = personas.front_desk
    with pytest.raises(services.ReferralError, match="Accept the referral"):
        services.referral_appointment_link(
            context=SYSTEM_CONTEXT,
            user=user,
            referral=referral,
            appointment=_appointment(personas, patient, now + dt.timedelta(days=1)),
        )
    services.referral_accept(context=SYSTEM_CONTEXT, user=user, referral=referral)
    visit = _appointment(personas, patient, now + dt.timedelta(days=3))
    referral = services.referral_appointment_link(
        context=SYSTEM_CONTEXT, user=user, referral=referral, appointment=visit
    )
    assert referral.status == ReferralStatus.SCHEDULED
    assert list(referral.appointments.all()) == [visit]
    services.referral_seen(context=SYSTEM_CONTEXT, user=user, referral=referral)
    referral = services.referral_report_sent(context=SYSTEM_CONTEXT, user=user, referral=referral)
    assert referral.status == ReferralStatus.REPORT_SENT
    assert referral.closed_at is not None
    events = AuditEvent.objects.filter(object_type="referral", object_id=str(referral.pk))
    assert [e.detail.get("to") for e in events.order_by("seq")][1:] == [
        "accepted",
        "scheduled",
        "seen",
        "report_sent",
    ]
    assert all(e.patient_ids == [patient.pk] for e in events)


def test_a_decline_needs_its_reason_and_leaves_the_queue(
    personas: Personas, patient: Patient
) -> None:
    referral = _register(personas, patient, timezone.now())
    with pytest.raises(services.ReferralError, match="Say why"):
        services.referral_decline(
            context=SYSTEM_CONTEXT, user=personas.front_desk, referral=referral, reason="  "
        )
    declined = services.referral_decline(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        referral=referral,
        reason="Not a service we offer",
    )
    assert declined.status == ReferralStatus.DECLINED
    assert declined.decline_reason == "Not a service we offer"
    source = desk_sources()["referral_unscheduled"]
    assert not source.rows(clinic_id=personas.clinic.pk, now=timezone.now()).exists()


def test_an_expiry_before_the_referral_is_refused(personas: Personas, patient: Patient) -> None:
    now = timezone.now()
    with pytest.raises(services.ReferralError, match="before the referral was received"):
        _register(
            personas,
            patient,
            now,
            auth_number="A1",
            auth_expires=(now - dt.timedelta(days=10)).date(),
        )
    assert not Referral.objects.exists()


def test_a_patient_of_another_clinic_cannot_be_referred_here(personas: Personas) -> None:
    stranger = make_patient(personas.other_clinic, given_name="Stranger")
    with pytest.raises(services.ReferralError, match="not one of this clinic's"):
        _register(personas, stranger, timezone.now())


def test_the_document_that_came_with_it_is_filed_to_the_patient_as_a_referral(
    personas: Personas, patient: Patient
) -> None:
    (letter,) = documents_upload(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        clinic=personas.clinic,
        uploads=[Upload("letter.pdf", pdf_bytes())],
    )
    referral = services.referral_register(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        patient=patient,
        details=_details(),
        documents=[letter],
    )
    letter.refresh_from_db()
    assert (letter.patient_id, letter.kind) == (patient.pk, "referral")
    assert list(referral.documents.all()) == [letter]


def test_an_authorisation_expiring_before_the_visit_warns_at_booking_and_check_in(
    personas: Personas, patient: Patient
) -> None:
    now = timezone.now()
    referral = _register(
        personas,
        patient,
        now,
        auth_number="AUTH-77",
        auth_expires=(now + dt.timedelta(days=10)).date(),
    )
    soon = visit_warnings(patient_id=patient.pk, start=now + dt.timedelta(days=3))
    assert soon == []
    late = visit_warnings(patient_id=patient.pk, start=now + dt.timedelta(days=20))
    assert len(late) == 1
    assert "AUTH-77" in late[0]
    assert "expires" in late[0]
    services.referral_accept(context=SYSTEM_CONTEXT, user=personas.front_desk, referral=referral)
    visit = _appointment(personas, patient, now + dt.timedelta(days=20))
    services.referral_appointment_link(
        context=SYSTEM_CONTEXT, user=personas.front_desk, referral=referral, appointment=visit
    )
    facts = check_in_facts(visit, now=visit.start - dt.timedelta(minutes=10))
    assert any(o.key == "authorisation" and "AUTH-77" in o.text for o in facts.outstanding)


def test_authorised_visits_used_up_warn_for_the_next_one(
    personas: Personas, patient: Patient
) -> None:
    now = timezone.now()
    referral = _register(personas, patient, now, auth_number="V-1", auth_visits=1)
    services.referral_accept(context=SYSTEM_CONTEXT, user=personas.front_desk, referral=referral)
    first = _appointment(personas, patient, now + dt.timedelta(days=2))
    services.referral_appointment_link(
        context=SYSTEM_CONTEXT, user=personas.front_desk, referral=referral, appointment=first
    )
    # The first visit itself is within the authorisation.
    assert visit_warnings(patient_id=patient.pk, start=first.start, appointment_id=first.pk) == []
    later = visit_warnings(patient_id=patient.pk, start=now + dt.timedelta(days=9))
    assert len(later) == 1
    assert "allows 1 visit, already used" in later[0]


def test_the_booking_confirmation_shows_the_authorisation_warning(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    now = timezone.now()
    _register(
        personas,
        patient,
        now,
        auth_number="AUTH-9",
        auth_expires=(now + dt.timedelta(days=2)).date(),
    )
    visit = _appointment(personas, patient, now + dt.timedelta(days=30))
    start = now + dt.timedelta(days=14)
    response = client_for(personas.front_desk).post(
        reverse("scheduling:book", args=[patient.pk]),
        {
            "slot": f"{visit.schedule_id} {start.isoformat()}",
            "appointment_type": visit.appointment_type_id,
        },
    )
    assert response.status_code == 200
    assert "AUTH-9" in response.content.decode()


def test_the_register_page_refuses_a_bad_npi_and_keeps_what_was_typed(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    client = client_for(personas.front_desk)
    data = {
        "patient": patient.pk,
        "provider_name": "Dr Ada Grey",
        "npi": "1234567894",
        "reason": "Palpitations",
        "urgency": "routine",
        "fax": "not a fax",
    }
    response = client.post(reverse("referrals:new"), data)
    text = response.content.decode()
    assert response.status_code == 400
    assert "check digit is wrong" in text
    assert "does not look like a phone number" in text
    assert "Palpitations" in text
    assert not Referral.objects.exists()
    data.update({"npi": GOOD_NPI, "fax": "+1 202 555 0143"})
    assert client.post(reverse("referrals:new"), data).status_code == 302
    assert Referral.objects.get().fax == "+12025550143"


def test_the_register_page_of_another_clinics_patient_is_not_found(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    stranger = make_patient(personas.other_clinic, given_name="Stranger")
    response = client_for(personas.front_desk).get(
        reverse("referrals:new"), {"patient": stranger.pk}
    )
    assert response.status_code == 404


def test_an_outgoing_referral_is_sent_with_chosen_documents_and_tracked_to_the_report(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    practice = Practice.objects.create(
        clinic=personas.clinic, name="Heart Partners", specialty="Cardiology"
    )
    (notes,) = documents_upload(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        clinic=personas.clinic,
        uploads=[Upload("notes.pdf", pdf_bytes())],
        patient=patient,
        kind="outside_records",
    )
    asked = client_for(personas.physician).post(
        reverse("referrals:request", args=[patient.pk]),
        {"specialty": "Cardiology", "reason": "Murmur", "urgency": "routine"},
    )
    assert asked.status_code == 302
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.REQUESTED
    desk = client_for(personas.front_desk)

    def step(name: str) -> str:
        return reverse("referrals:step", args=[referral.pk, name])

    sent = desk.post(step("send"), {"practice": practice.pk, "documents": [notes.pk]})
    assert sent.status_code == 302
    assert desk.post(step("external"), {"when": "2027-01-15"}).status_code == 302
    assert desk.post(step("report-received")).status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REPORT_RECEIVED
    assert referral.practice_name == "Heart Partners"
    assert referral.external_appointment_on == dt.date(2027, 1, 15)
    assert list(referral.documents.all()) == [notes]
    # The desk may not ask for one; a physician may not send.
    assert desk.get(reverse("referrals:request", args=[patient.pk])).status_code == 403
    assert client_for(personas.physician).post(step("seen")).status_code == 403


def test_a_step_out_of_order_is_refused_in_words_and_changes_nothing(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    referral = _register(personas, patient, timezone.now())
    response = client_for(personas.front_desk).post(
        reverse("referrals:step", args=[referral.pk, "report-sent"])
    )
    assert response.status_code == 400
    assert "once the patient has been seen" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.RECEIVED


def test_the_open_list_and_a_referral_are_seen_only_in_the_clinic(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    referral = _register(personas, patient, timezone.now())
    page = client_for(personas.front_desk).get(reverse("referrals:list"))
    assert patient.family_name in page.content.decode()
    url = reverse("referrals:referral", args=[referral.pk])
    assert client_for(personas.outsider).get(url).status_code == 404
    assert client_for(personas.admin).get(url).status_code == 403
    assert (
        patient.family_name
        not in client_for(personas.outsider).get(reverse("referrals:list")).content.decode()
    )
    assert Document.objects.count() == 0


def test_the_open_list_costs_the_same_queries_for_one_referral_or_many(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.front_desk)

    def counted() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("referrals:list")).status_code == 200
        return len(captured)

    _register(personas, make_patient(personas.clinic), timezone.now())
    one = counted()
    for index in range(5):
        _register(personas, make_patient(personas.clinic, given_name=f"P{index}"), timezone.now())
    assert counted() == one


def test_documents_are_added_to_a_referral_and_unfiled_ones_filed_to_its_patient(
    personas: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    referral = _register(personas, patient, timezone.now())
    (fax,) = documents_upload(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        clinic=personas.clinic,
        uploads=[Upload("fax.pdf", pdf_bytes())],
    )
    other = make_patient(personas.clinic, given_name="Other")
    (theirs,) = documents_upload(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        clinic=personas.clinic,
        uploads=[Upload("theirs.pdf", pdf_bytes())],
        patient=other,
        kind="consent",
    )
    client = client_for(personas.front_desk)
    url = reverse("referrals:step", args=[referral.pk, "attach"])
    # Another patient's document is not among the choices: refused, nothing added.
    refused = client.post(url, {"documents": [theirs.pk]})
    assert refused.status_code == 400
    assert not referral.documents.exists()
    assert client.post(url, {"documents": [fax.pk]}).status_code == 302
    fax.refresh_from_db()
    assert (fax.patient_id, fax.kind) == (patient.pk, "referral")
    assert list(referral.documents.all()) == [fax]


def test_the_check_in_page_shows_an_authorisation_used_up(
    ny: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    import time_machine

    now = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in New York
    with time_machine.travel(now, tick=False):
        referral = _register(
            ny, patient, now - dt.timedelta(days=7), auth_number="V-2", auth_visits=1
        )
        services.referral_accept(context=SYSTEM_CONTEXT, user=ny.front_desk, referral=referral)
        for start in (now - dt.timedelta(days=2), now + dt.timedelta(minutes=30)):
            services.referral_appointment_link(
                context=SYSTEM_CONTEXT,
                user=ny.front_desk,
                referral=referral,
                appointment=_appointment(ny, patient, start),
            )
        today = referral.appointments.order_by("-start").first()
        assert today is not None
        page = client_for(ny.front_desk).get(reverse("flow:check_in", args=[today.pk]))
    assert page.status_code == 200
    assert "allows 1 visit, already used" in page.content.decode()


def test_a_supervisor_sets_the_clinics_target_and_new_referrals_are_due_by_it(
    ny: Personas, patient: Patient, client_for: Callable[[User], Client]
) -> None:
    url = reverse("referrals:target")
    client = client_for(ny.supervisor)
    wrong = client.post(url, {"routine_days": "1", "urgent_days": "3"})
    assert wrong.status_code == 400
    assert "urgent referrals no later than routine ones" in wrong.content.decode()
    assert client.post(url, {"routine_days": "3", "urgent_days": "1"}).status_code == 302
    assert client_for(ny.front_desk).get(url).status_code == 403
    monday = dt.datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK)
    referral = _register(ny, patient, monday)
    assert referral.due_at is not None
    assert referral.due_at.astimezone(NEW_YORK).date() == dt.date(2026, 12, 10)


def test_administrators_reach_the_directory_from_the_navigation_and_see_no_referrals(
    personas: Personas, client_for: Callable[[User], Client]
) -> None:
    from frontdesk.accounts.navigation import navigation_for

    admin_links = {item.key for item in navigation_for(personas.admin.role, "/")}
    desk_links = {item.key for item in navigation_for(personas.front_desk.role, "/")}
    assert "practices" in admin_links and "referrals" not in admin_links
    assert "referrals" in desk_links and "practices" not in desk_links
    page = client_for(personas.admin).post(
        reverse("referrals:practices"),
        {"name": "Heart Partners", "specialty": "Cardiology", "npi": "1234567894", "active": "on"},
    )
    assert page.status_code == 400
    assert "check digit is wrong" in page.content.decode()
    assert "Heart Partners" in page.content.decode()


def _letter_text(document: Document) -> str:
    from django.core.files.storage import default_storage

    from frontdesk.lib.pdf import pdf_text

    with default_storage.open(document.file, "rb") as handle:
        return " ".join(pdf_text(handle.read()).split())


def test_a_declined_referral_writes_the_reason_in_a_letter_to_the_referrer(
    personas: Personas, patient: Patient
) -> None:
    referral = _register(personas, patient, timezone.now(), fax="+12025550199")
    services.referral_decline(
        context=SYSTEM_CONTEXT,
        user=personas.front_desk,
        referral=referral,
        reason="We do not see patients under 18",
    )
    (letter,) = referral.documents.filter(kind="correspondence")
    assert letter.patient_id == patient.pk
    text = _letter_text(letter)
    assert "Dear Dr Ada Grey" in text
    assert "Grey Family Practice" in text and "Fax +12025550199" in text
    assert "Reason: We do not see patients under 18" in text
    assert "Regarding: John Smith (MRN" in text
    assert "Chest pain on exertion" in text


def test_an_accepted_referral_writes_to_the_referrer(personas: Personas, patient: Patient) -> None:
    referral = _register(personas, patient, timezone.now())
    services.referral_accept(context=SYSTEM_CONTEXT, user=personas.front_desk, referral=referral)
    (letter,) = referral.documents.filter(kind="correspondence")
    assert "We have accepted the referral" in _letter_text(letter)


def test_a_decline_whose_letter_cannot_be_printed_leaves_the_referral_as_it_was(
    personas: Personas, patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk.letters import services as letters

    def broken(html: str) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(letters, "pdf_render", broken)
    referral = _register(personas, patient, timezone.now())
    with pytest.raises(services.ReferralError, match="could not be printed to PDF"):
        services.referral_decline(
            context=SYSTEM_CONTEXT, user=personas.front_desk, referral=referral, reason="Full"
        )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.RECEIVED and referral.decline_reason == ""
    assert not Document.objects.filter(kind="correspondence").exists()


def test_every_status_step_is_in_the_transition_table() -> None:
    steps = {t.to for t in services.TRANSITIONS.values()}
    assert ReferralStatus.SCHEDULED in steps and ReferralStatus.REPORT_RECEIVED in steps
    assert all(t.refusal and t.allowed for t in services.TRANSITIONS.values())
