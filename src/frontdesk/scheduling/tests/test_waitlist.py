from __future__ import annotations

import datetime as dt
import re
import threading
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import Personas, login_client, make_patient
from frontdesk.audit.models import AuditEventPatient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.lib.links import make_token
from frontdesk.messaging.waitlist_messages import offer_token
from frontdesk.patients.models import BreakGlassGrant, Patient
from frontdesk.scheduling import availability
from frontdesk.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Schedule,
    ScheduleTemplate,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistPriority,
    WaitlistStatus,
)
from frontdesk.scheduling.tests.waitlist_support import (
    NOW,
    OnCommit,
    assert_offers_locked_before_the_entry,
    at,
    book,
    cancel,
    link_of,
    offered_for_a_race,
    race_with_acceptance,
    reachable,
    wait,
)
from frontdesk.scheduling.waitlist.entries import waitlist_entry_remove
from frontdesk.scheduling.waitlist.offers import waitlist_offer_accept, waitlist_offers_expire

pytestmark = pytest.mark.usefixtures("waitlist_clock", "waitlist_offers")


def audited(patient: Patient, object_type: str) -> bool:
    return AuditEventPatient.objects.filter(
        patient_id_value=patient.pk, event__object_type=object_type
    ).exists()


def test_freed_time_is_offered_by_priority_then_waiting_time_to_n_at_once(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    day = dt.timedelta(days=1)
    old_routine = wait(
        personas, reachable(personas, "Olive"), follow_up, waiting_since=NOW - 9 * day
    )
    wait(personas, reachable(personas, "Nina"), follow_up, waiting_since=NOW - day)
    high = wait(
        personas,
        reachable(personas, "Hugo"),
        follow_up,
        priority=WaitlistPriority.HIGH,
        waiting_since=NOW - 2 * day,
    )
    urgent = wait(
        personas,
        reachable(personas, "Uma"),
        follow_up,
        priority=WaitlistPriority.URGENT,
        waiting_since=NOW - day,
    )
    unreachable = make_patient(personas.clinic, given_name="Quiet", family_name="Waiting")
    wait(
        personas,
        unreachable,
        follow_up,
        priority=WaitlistPriority.URGENT,
        waiting_since=NOW - 30 * day,
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)

    offered = list(WaitlistOffer.objects.order_by("pk"))
    assert [o.entry_id for o in offered] == [urgent.pk, high.pk, old_routine.pk]
    assert {o.start for o in offered} == {freed.start}
    assert all(o.status == WaitlistOfferStatus.OFFERED for o in offered)
    assert all(o.expires_at == NOW + dt.timedelta(minutes=120) for o in offered)
    assert all(o.channel == "email" for o in offered)
    assert [m.to for m in mail.outbox] == [
        ["uma@example.org"],
        ["hugo@example.org"],
        ["olive@example.org"],
    ]
    assert "https://clinic.example/w/" in mail.outbox[0].body
    assert "Tuesday 24 November 2026 at 9:00 AM" in mail.outbox[0].body
    assert audited(urgent.patient, "waitlist_offer")
    assert not audited(unreachable, "waitlist_offer")


def schedule_two(personas: Personas) -> Schedule:
    provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Ada", family_name="Okafor", specialty="Family"
    )
    schedule = Schedule.objects.create(
        clinic=personas.clinic, provider=provider, location=Location.objects.get()
    )
    ScheduleTemplate.objects.create(
        schedule=schedule,
        rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        start_time=dt.time(9, 0),
        end_time=dt.time(17, 0),
        valid_from=dt.date(2026, 1, 1),
    )
    return schedule


def test_only_patients_whose_wishes_fit_the_freed_time_are_offered_it(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    other_provider = Provider.objects.create(
        clinic=personas.clinic, given_name="Ravi", family_name="Shah", specialty="Family"
    )
    long_visit = AppointmentType.objects.create(
        clinic=personas.clinic, name="Annual physical", duration_minutes=60
    )
    wait(personas, reachable(personas, "Wrongdoc"), follow_up, providers=[other_provider])
    wait(personas, reachable(personas, "Toolong"), long_visit)
    wait(personas, reachable(personas, "Tooearly"), follow_up, latest=dt.date(2026, 11, 23))
    wait(personas, reachable(personas, "Mondays"), follow_up, weekdays=("0",))
    wait(personas, reachable(personas, "Afternoons"), follow_up, time_of_day="afternoon")
    elsewhere = reachable(personas, "Elsewhere")
    book(personas, elsewhere, schedule_two(personas), follow_up, freed.start)
    wait(personas, elsewhere, follow_up)  # already seen by another provider at that time
    right = wait(personas, reachable(personas, "Right"), follow_up, providers=[schedule.provider])
    blocker = make_patient(personas.clinic, given_name="Blocker")
    book(personas, blocker, schedule, follow_up, freed.end)  # 09:30 taken: an hour cannot fit

    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)

    assert list(WaitlistOffer.objects.values_list("entry_id", flat=True)) == [right.pk]


def test_the_first_to_accept_gets_the_time_and_a_second_accept_is_told_it_is_gone(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    first = wait(personas, reachable(personas, "First"), follow_up, waiting_since=NOW)
    second = wait(personas, reachable(personas, "Second"), follow_up, waiting_since=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    mail.outbox.clear()

    page = Client().get(link_of(first))
    assert page.status_code == 200
    assert b"An earlier time is free" in page.content
    assert "no-store" in page["Cache-Control"]  # never kept by a shared computer's browser
    assert not Appointment.objects.filter(patient=first.patient).exists()  # reading never acts

    accepted = Client().post(link_of(first), {"answer": "accept"})
    assert accepted.status_code == 200
    assert b"It is yours" in accepted.content
    assert "no-store" in accepted["Cache-Control"]
    appointment = Appointment.objects.get(patient=first.patient)
    assert appointment.start == freed.start
    assert appointment.status == AppointmentStatus.BOOKED
    first.refresh_from_db()
    assert first.status == WaitlistStatus.BOOKED

    late = Client().post(link_of(second), {"answer": "accept"})
    assert late.status_code == 410
    assert b"this time has been taken" in late.content
    assert not Appointment.objects.filter(patient=second.patient).exists()
    assert WaitlistOffer.objects.get(entry=second).status == WaitlistOfferStatus.GONE
    second.refresh_from_db()
    assert second.status == WaitlistStatus.WAITING  # still waiting for the next freed time
    assert [m.to for m in mail.outbox] == [["second@example.org"]]
    assert "has been taken" in mail.outbox[0].body
    assert b"this time has been taken" in Client().get(link_of(second)).content

    again = Client().post(link_of(first), {"answer": "accept"})
    assert b"It is yours" in again.content
    assert Appointment.objects.filter(patient=first.patient).count() == 1
    assert audited(first.patient, "waitlist_offer")
    assert audited(second.patient, "waitlist_offer")


def test_patients_racing_to_accept_one_time_never_double_book(
    transactional_audit: None,
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
) -> None:
    leaver = make_patient(personas.clinic, given_name="Leaver")
    freed = book(personas, leaver, schedule, follow_up, at(clinic_tz, 24, 9))
    entries = [wait(personas, reachable(personas, f"Racer{i}"), follow_up) for i in range(3)]
    cancel(personas, freed)  # no test transaction around it: the offers go out on commit
    offers = list(WaitlistOffer.objects.filter(status=WaitlistOfferStatus.OFFERED))
    assert len(offers) == len(entries)
    barrier = threading.Barrier(len(offers))
    outcomes: list[str] = []

    def accept(offer: WaitlistOffer) -> None:
        try:
            barrier.wait()
            answer = waitlist_offer_accept(context=SYSTEM_CONTEXT, offer_id=offer.pk)
            outcomes.append(answer.outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(o,)) for o in offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "gone", "gone"]
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
    assert WaitlistOffer.objects.filter(status=WaitlistOfferStatus.ACCEPTED).count() == 1
    assert WaitlistEntry.objects.filter(status=WaitlistStatus.BOOKED).count() == 1


def test_accepting_moves_the_kept_appointment_earlier_and_offers_the_old_time_on(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    freed: Appointment,
    clinic_tz: zoneinfo.ZoneInfo,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    mover = reachable(personas, "Mover")
    later = book(personas, mover, schedule, follow_up, at(clinic_tz, 27, 10))
    entry = wait(personas, mover, follow_up, current=later, priority=WaitlistPriority.URGENT)
    next_in_line = wait(personas, reachable(personas, "Next"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    assert WaitlistOffer.objects.get(entry=entry).start == freed.start
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        answer = waitlist_offer_accept(
            context=SYSTEM_CONTEXT, offer_id=WaitlistOffer.objects.get(entry=entry).pk
        )

    assert answer.outcome == "accepted"
    later.refresh_from_db()
    assert later.start == freed.start  # the same booking, moved; never two
    assert Appointment.objects.filter(patient=mover, status=AppointmentStatus.BOOKED).count() == 1
    assert (
        availability.slot_is_bookable(
            appointment_type=follow_up,
            schedule=schedule,
            start=at(clinic_tz, 27, 10),
            now=NOW,
        )
        is None
    )
    # The Friday time the mover gave up goes to the next patient in line.
    onward = WaitlistOffer.objects.get(entry=next_in_line, start=at(clinic_tz, 27, 10))
    assert onward.status == WaitlistOfferStatus.OFFERED
    assert any(m.to == ["next@example.org"] for m in mail.outbox)


def test_a_patient_waiting_with_a_booking_is_only_offered_an_earlier_time(
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    freed: Appointment,
    clinic_tz: zoneinfo.ZoneInfo,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    holder = reachable(personas, "Holder")
    sooner = book(personas, holder, schedule, follow_up, at(clinic_tz, 23, 14))
    wait(personas, holder, follow_up, current=sooner)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    assert not WaitlistOffer.objects.exists()


def test_an_expired_offer_is_refused_politely_and_the_time_goes_to_the_next_patient(
    personas: Personas,
    settings: Any,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
    waitlist_clock: time_machine.Traveller,
) -> None:
    settings.WAITLIST_OFFERS_AT_ONCE = 1
    slow = wait(personas, reachable(personas, "Slow"), follow_up, waiting_since=NOW)
    quick = wait(personas, reachable(personas, "Quick"), follow_up, waiting_since=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    link = link_of(slow)
    assert not WaitlistOffer.objects.filter(entry=quick).exists()

    waitlist_clock.shift(dt.timedelta(minutes=121))
    page = Client().get(link)
    assert page.status_code == 410
    assert b"This offer has expired" in page.content
    refused = Client().post(link, {"answer": "accept"})
    assert refused.status_code == 410
    assert not Appointment.objects.filter(patient=slow.patient).exists()

    mail.outbox.clear()
    assert waitlist_offers_expire() == 1
    assert WaitlistOffer.objects.get(entry=slow).status == WaitlistOfferStatus.EXPIRED
    assert WaitlistOffer.objects.get(entry=quick).status == WaitlistOfferStatus.OFFERED
    assert [m.to for m in mail.outbox] == [["quick@example.org"]]


def test_a_tampered_or_foreign_link_shows_a_polite_page_and_does_nothing(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    entry = wait(personas, reachable(personas, "Target"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    offer = WaitlistOffer.objects.get(entry=entry)
    genuine = offer_token(offer)
    tampered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    other_purpose = make_token("appointment", offer.pk)
    for token in (tampered, other_purpose, "nonsense", genuine.replace(":", "", 1)):
        url = reverse("waitlist_offer", kwargs={"token": token})
        page = Client().get(url)
        assert page.status_code == 400
        assert b"This link does not work" in page.content
        assert Client().post(url, {"answer": "accept"}).status_code == 400
    offer.refresh_from_db()
    assert offer.status == WaitlistOfferStatus.OFFERED
    assert not Appointment.objects.filter(patient=entry.patient).exists()


def test_declining_hands_the_time_to_the_next_patient_once_no_offer_is_open(
    personas: Personas,
    settings: Any,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    settings.WAITLIST_OFFERS_AT_ONCE = 1
    busy = wait(personas, reachable(personas, "Busy"), follow_up, waiting_since=NOW)
    free = wait(personas, reachable(personas, "Free"), follow_up, waiting_since=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    declined = Client().post(link_of(busy), {"answer": "decline"})
    assert declined.status_code == 200
    assert WaitlistOffer.objects.get(entry=busy).status == WaitlistOfferStatus.DECLINED
    assert WaitlistOffer.objects.get(entry=free).status == WaitlistOfferStatus.OFFERED
    assert audited(busy.patient, "waitlist_offer")


def test_staff_fill_a_freed_time_by_hand_and_the_open_offers_are_told_it_is_gone(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    offered = wait(personas, reachable(personas, "Offered"), follow_up, waiting_since=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    by_phone = wait(personas, make_patient(personas.clinic, given_name="Phoner"), follow_up)
    mail.outbox.clear()
    client = login_client(Client(), personas.front_desk)

    page = client.get(reverse("scheduling:waitlist_slot"), {"appointment": freed.pk})
    assert page.status_code == 200
    assert b"Phoner" in page.content  # no messages agreed, but staff can book by hand
    assert b"none agreed: call" in page.content
    assert audited(by_phone.patient, "waitlist_slot")

    fields = {
        "entry": by_phone.pk,
        "schedule": freed.schedule_id,
        "start": freed.start.isoformat(),
        "end": freed.end.isoformat(),
        "at": freed.start.isoformat(),
    }
    # The time is out on an offer: the officer is asked first, then goes ahead.
    assert client.post(reverse("scheduling:waitlist_book"), fields).status_code == 409
    response = client.post(
        reverse("scheduling:waitlist_book"), {**fields, "confirm_offered": "yes"}
    )
    booked = Appointment.objects.get(patient=by_phone.patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:appointment", args=[booked.pk])
    assert booked.start == freed.start
    by_phone.refresh_from_db()
    assert by_phone.status == WaitlistStatus.BOOKED
    assert WaitlistOffer.objects.get(entry=offered).status == WaitlistOfferStatus.GONE
    assert [m.to for m in mail.outbox] == [["offered@example.org"]]
    assert (
        b"this time has been taken" in Client().post(link_of(offered), {"answer": "accept"}).content
    )
    assert audited(by_phone.patient, "waitlist_entry")

    listing = client.get(reverse("scheduling:waitlist"), {"show": "closed"})
    assert b"Phoner" in listing.content
    waiting = client.get(reverse("scheduling:waitlist")).content.decode()
    slot_link = waiting.split('href="/schedule/waitlist/slot/?', 1)[1].split('"', 1)[0]
    slot_page = client.get("/schedule/waitlist/slot/?" + slot_link.replace("&amp;", "&"))
    assert slot_page.status_code == 200
    assert b"Offered" in slot_page.content
    garbled = {"schedule": "x", "start": "yesterday", "end": ""}
    assert client.get(reverse("scheduling:waitlist_slot"), garbled).status_code == 404


def test_the_waitlist_page_costs_the_same_queries_for_one_entry_or_many(
    personas: Personas, follow_up: AppointmentType, schedule: Schedule
) -> None:
    client = login_client(Client(), personas.nurse)
    wait(personas, reachable(personas, "One"), follow_up, providers=[schedule.provider])
    with CaptureQueriesContext(connection) as one:
        assert b"One" in client.get(reverse("scheduling:waitlist")).content
    for name in ("Two", "Three", "Four"):
        wait(personas, reachable(personas, name), follow_up, providers=[schedule.provider])
    with CaptureQueriesContext(connection) as many:
        assert b"Four" in client.get(reverse("scheduling:waitlist")).content
    assert len(many) == len(one) <= 14


def test_staff_offer_a_freed_time_to_the_waitlist_from_its_page(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
) -> None:
    cancel(personas, freed)  # inside the test transaction: nothing is offered automatically
    entry = wait(personas, reachable(personas, "Asked"), follow_up)
    client = login_client(Client(), personas.front_desk)
    data = {
        "schedule": freed.schedule_id,
        "start": freed.start.isoformat(),
        "end": freed.end.isoformat(),
    }
    response = client.post(reverse("scheduling:waitlist_slot_offer"), data, follow=True)
    assert b"Offered to 1 waiting patient" in response.content
    assert WaitlistOffer.objects.get(entry=entry).status == WaitlistOfferStatus.OFFERED
    again = client.post(reverse("scheduling:waitlist_slot_offer"), data, follow=True)
    assert b"Nobody was offered this time" in again.content
    assert WaitlistOffer.objects.count() == 1


def test_staff_put_a_patient_on_the_waitlist_and_mistakes_are_explained_keeping_the_input(
    personas: Personas,
    follow_up: AppointmentType,
    patient: Patient,
) -> None:
    client = login_client(Client(), personas.front_desk)
    url = reverse("scheduling:waitlist_add", args=[patient.pk])
    assert client.get(url).status_code == 200
    bad = client.post(
        url,
        {
            "appointment_type": follow_up.pk,
            "earliest_date": "12/20/2026",
            "latest_date": "12/01/2026",
            "priority": "2",
            "note": "prefers mornings",
        },
    )
    assert bad.status_code == 400
    assert b"The last day must be on or after the first day." in bad.content
    assert b"prefers mornings" in bad.content
    good = {
        "appointment_type": follow_up.pk,
        "earliest_date": "11/23/2026",
        "latest_date": "12/20/2026",
        "priority": "2",
        "weekdays": ["0", "2"],
        "time_of_day": "morning",
    }
    assert client.post(url, good).status_code == 302
    entry = WaitlistEntry.objects.get(patient=patient)
    assert (entry.priority, entry.weekdays, entry.time_of_day) == (2, "02", "morning")
    assert audited(patient, "waitlist_entry")
    twice = client.post(url, good)
    assert twice.status_code == 400
    assert b"is already waiting for a Follow-up visit" in twice.content
    assert WaitlistEntry.objects.filter(patient=patient).count() == 1


def test_staff_of_another_clinic_see_none_of_this_waitlist(
    personas: Personas, follow_up: AppointmentType
) -> None:
    entry = wait(personas, reachable(personas, "Private"), follow_up)
    outsider = login_client(Client(), personas.outsider)
    assert b"Private" not in outsider.get(reverse("scheduling:waitlist")).content
    removed = outsider.post(reverse("scheduling:waitlist_remove"), {"entry": entry.pk})
    assert removed.status_code == 404
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


def test_removing_a_patient_with_an_open_offer_hands_the_time_to_the_next(
    personas: Personas,
    settings: Any,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    settings.WAITLIST_OFFERS_AT_ONCE = 1
    leaving = wait(personas, reachable(personas, "Leaving"), follow_up, waiting_since=NOW)
    staying = wait(personas, reachable(personas, "Staying"), follow_up, waiting_since=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    client = login_client(Client(), personas.front_desk)

    response = client.post(reverse("scheduling:waitlist_remove"), {"entry": leaving.pk})

    assert response.status_code == 302
    leaving.refresh_from_db()
    assert leaving.status == WaitlistStatus.REMOVED
    assert WaitlistOffer.objects.get(entry=leaving).status == WaitlistOfferStatus.WITHDRAWN
    assert WaitlistOffer.objects.get(entry=staying).status == WaitlistOfferStatus.OFFERED
    assert audited(leaving.patient, "waitlist_entry")
    late = Client().post(link_of(leaving), {"answer": "accept"})
    assert late.status_code == 410
    assert b"changed or closed by the clinic" in late.content
    assert b"You stay on our waitlist" not in late.content
    assert b"still on our waitlist" not in late.content
    assert not Appointment.objects.filter(patient=leaving.patient).exists()


def test_the_appointment_page_leads_to_the_waitlist(
    personas: Personas, follow_up: AppointmentType, freed: Appointment
) -> None:
    client = login_client(Client(), personas.front_desk)
    page = client.get(reverse("scheduling:appointment", args=[freed.pk]))
    assert b"Wait for an earlier time" in page.content
    cancel(personas, freed)
    page = client.get(reverse("scheduling:appointment", args=[freed.pk]))
    assert b"Offer this time to the waitlist" in page.content
    add = client.get(
        reverse("scheduling:waitlist_add", args=[freed.patient_id]), {"appointment": freed.pk}
    )
    assert add.status_code == 200
    assert b"keeps the appointment" not in add.content  # a cancelled booking cannot be kept


def test_the_waitlist_form_ticks_no_provider_so_any_provider_fits(
    personas: Personas, freed: Appointment
) -> None:
    client = login_client(Client(), personas.front_desk)
    add = client.get(
        reverse("scheduling:waitlist_add", args=[freed.patient_id]), {"appointment": freed.pk}
    )
    html = add.content.decode()
    assert "Providers (none ticked: any)" in html
    assert f'name="providers" value="{freed.provider_id}"' in html
    assert not re.search(r'name="providers"[^>]*checked', html)


def test_cancelling_says_the_freed_time_will_be_offered_to_the_waitlist(
    personas: Personas, freed: Appointment
) -> None:
    client = login_client(Client(), personas.front_desk)
    page = client.get(reverse("scheduling:appointment", args=[freed.pk])).content.decode()
    assert "the time is offered to patients on the waitlist whom it fits" in page
    done = client.post(
        reverse("scheduling:appointment_cancel", args=[freed.pk]),
        {"cancelled_by": "patient", "reason": "away"},
        follow=True,
    ).content.decode()
    assert "Cancelled; the time is free again." in done
    assert "Patients on the waitlist whom the time fits are offered it." in done


class RecordedTexts:
    """Stands in for the text-message provider and keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to_e164: str, text: str, *, idempotency_key: str = "") -> None:
        self.sent.append((to_e164, text))


def test_offer_links_and_messages_never_show_the_visit_type_provider_or_other_bookings(
    personas: Personas,
    schedule: Schedule,
    clinic_tz: zoneinfo.ZoneInfo,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    texts = RecordedTexts()
    monkeypatch.setattr("frontdesk.messaging.channels.sms_provider", lambda: texts)
    sensitive = AppointmentType.objects.create(
        clinic=personas.clinic,
        name="HIV counselling",
        duration_minutes=30,
        preparation="Bring your viral load results.",
    )
    Provider.objects.filter(pk=schedule.provider_id).update(
        given_name="Zebediah", family_name="Quarrington"
    )
    leaver = make_patient(personas.clinic, given_name="Leaver")
    freed = book(personas, leaver, schedule, sensitive, at(clinic_tz, 24, 9))
    mover = reachable(personas, "Mover")
    later = book(personas, mover, schedule, sensitive, at(clinic_tz, 27, 10))  # a Friday
    moving = wait(personas, mover, sensitive, current=later, priority=WaitlistPriority.URGENT)
    texter = make_patient(
        personas.clinic,
        given_name="Texter",
        phone_kind="mobile",
        consent_sms=True,
        preferred_contact="sms",
    )
    # Texter cannot come on Friday, so is not offered the time Mover gives up.
    texting = wait(personas, texter, sensitive, latest=dt.date(2026, 11, 26))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    with django_capture_on_commit_callbacks(execute=True):
        opened = Client().get(link_of(moving))
        accepted = Client().post(link_of(moving), {"answer": "accept"})
        declined = Client().post(link_of(texting), {"answer": "decline"})

    assert b"An earlier time is free" in opened.content
    assert b"It is yours" in accepted.content
    assert b"this time has been taken" in declined.content
    for page in (opened, accepted, declined):
        html = page.content.decode()
        for secret in ("HIV", "counselling", "Zebediah", "Quarrington", "viral load", "Friday"):
            assert secret not in html
    assert b"Hello Mover" in opened.content
    for page in (opened, accepted):
        html = page.content.decode()
        assert "Northside" in html
        assert "November 24" in html
        assert "09:00" in html
    offer_texts = [texter_text for _, texter_text in texts.sent]
    assert len(offer_texts) == 2  # the offer, then "it has been taken"
    assert "Tue 24 Nov 9:00 AM" in offer_texts[0]
    assert "Northside" in offer_texts[0]
    mails = [m.body for m in mail.outbox if m.to == ["mover@example.org"]]
    assert len(mails) == 1
    assert "Hello Mover" in mails[0]
    assert "Tuesday 24 November 2026 at 9:00 AM" in mails[0]
    assert "Northside" in mails[0]
    for sent in [*mails, *offer_texts, *(m.subject for m in mail.outbox)]:
        words = sent.split("https://", 1)[0]  # the link's signature is random letters
        for secret in ("HIV", "counselling", "Zebediah", "Quarrington", "viral", "Fri", "27"):
            assert secret not in words


def test_removing_an_entry_locks_its_offers_before_the_entry_as_accepting_does(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    entry = wait(personas, reachable(personas, "Leaving"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    assert WaitlistOffer.objects.get(entry=entry).status == WaitlistOfferStatus.OFFERED

    with CaptureQueriesContext(connection) as queries:
        waitlist_entry_remove(context=SYSTEM_CONTEXT, user=personas.front_desk, entry=entry)

    assert_offers_locked_before_the_entry(queries)
    assert WaitlistOffer.objects.get(entry=entry).status == WaitlistOfferStatus.WITHDRAWN


def test_removing_an_entry_while_its_patient_accepts_never_deadlocks(
    transactional_audit: None,
    personas: Personas,
    schedule: Schedule,
    follow_up: AppointmentType,
    clinic_tz: zoneinfo.ZoneInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time, so it cannot deadlock")
    freed, entry, offer = offered_for_a_race(personas, schedule, follow_up, clinic_tz)

    def remove() -> str:
        waitlist_entry_remove(context=SYSTEM_CONTEXT, user=personas.front_desk, entry=entry)
        return "removed"

    results = race_with_acceptance(monkeypatch, offer, "remove", remove)

    assert results == {"accept": "accepted", "remove": "This patient is no longer waiting."}
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED
    assert Appointment.objects.get(patient=entry.patient).start == freed.start


def offer_audits(patient: Patient) -> int:
    return AuditEventPatient.objects.filter(
        patient_id_value=patient.pk, event__object_type="waitlist_offer"
    ).count()


def test_an_unknown_answer_on_the_offer_page_shows_the_offer_as_it_stands_and_is_audited(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    entry = wait(personas, reachable(personas, "Unsure"), follow_up)
    quicker = wait(personas, reachable(personas, "Quicker"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    link = link_of(entry)
    before = offer_audits(entry.patient)

    unsure = Client().post(link, {"answer": "maybe"})
    assert unsure.status_code == 400
    assert b"An earlier time is free" in unsure.content
    assert b"Please answer with one of the two buttons" in unsure.content
    assert offer_audits(entry.patient) == before + 1

    with django_capture_on_commit_callbacks(execute=True):
        assert Client().post(link_of(quicker), {"answer": "accept"}).status_code == 200
    late = Client().post(link, {"answer": "maybe"})
    assert late.status_code == 410
    assert b"this time has been taken" in late.content
    assert b"An earlier time is free" not in late.content
    assert b"Yes, I take this time" not in late.content
    assert offer_audits(entry.patient) == before + 3  # told it is gone, then saw the page
    assert not Appointment.objects.filter(patient=entry.patient).exists()


def test_booking_a_restricted_patient_from_the_waitlist_asks_for_a_reason_first(
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
) -> None:
    cancel(personas, freed)  # inside the test transaction: nothing is offered automatically
    hidden = make_patient(personas.clinic, given_name="Hidden", confidentiality="restricted")
    entry = wait(personas, hidden, follow_up)
    client = login_client(Client(), personas.front_desk)
    data = {
        "entry": entry.pk,
        "schedule": freed.schedule_id,
        "start": freed.start.isoformat(),
        "end": freed.end.isoformat(),
        "at": freed.start.isoformat(),
    }

    refused = client.post(reverse("scheduling:waitlist_book"), data)

    assert refused.status_code == 302
    assert refused["Location"] == reverse("patients:break_glass", args=[hidden.pk])
    assert not Appointment.objects.filter(patient=hidden).exists()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING

    BreakGlassGrant.objects.create(
        patient=hidden,
        user=personas.front_desk,
        reason="patient called to take the time",
        granted_at=NOW,
        expires_at=NOW + dt.timedelta(minutes=30),
    )
    booked = client.post(reverse("scheduling:waitlist_book"), data)
    appointment = Appointment.objects.get(patient=hidden)
    assert booked["Location"] == reverse("scheduling:appointment", args=[appointment.pk])
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED


def test_the_appointment_history_names_who_changed_it(
    personas: Personas, follow_up: AppointmentType, freed: Appointment
) -> None:
    personas.front_desk.last_name = "Okafor"
    personas.front_desk.save()
    cancel(personas, freed)
    client = login_client(Client(), personas.front_desk)
    page = client.get(reverse("scheduling:appointment", args=[freed.pk])).content.decode()
    history = page[page.index("History") :]
    assert f"<td>{personas.front_desk.get_full_name()}</td>" in history
    assert f"<td>{personas.front_desk.username}</td>" not in history
