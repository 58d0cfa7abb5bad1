"""Offers withdrawn by the clinic (the entry removed, or changed so the offer no longer fits)
are recorded as withdrawn, not declined, and the patient's link says so."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import Personas, login_client
from frontdesk.audit.models import AuditAction, AuditEvent
from frontdesk.clinic.models import AppointmentType
from frontdesk.scheduling.models import (
    Appointment,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from frontdesk.scheduling.tests.waitlist_support import (
    NOW,
    OnCommit,
    cancel,
    change_url,
    form_data,
    link_of,
    offer_of,
    reachable,
    wait,
)

pytestmark = pytest.mark.usefixtures("waitlist_clock", "waitlist_offers")


def without_csrf_tokens(page: bytes) -> bytes:
    """The page as the patient reads it: each request masks its CSRF token afresh."""
    return re.sub(rb'(name="csrf-?(?:middleware)?token" (?:content|value)=")[^"]+"', rb'\1"', page)


@pytest.fixture
def offers_at_once() -> int:
    return 1


def withdraw(personas: Personas, entry: WaitlistEntry, how: str, follow_up: AppointmentType) -> Any:
    """Staff remove the entry, or change it to afternoons (the offer is at 09:00)."""
    client = login_client(Client(), personas.front_desk)
    if how == "removed":
        return client.post(reverse("scheduling:waitlist_remove"), {"entry": entry.pk})
    return client.post(
        change_url(entry), form_data(appointment_type=follow_up.pk, time_of_day="afternoon")
    )


@pytest.fixture(params=["removed", "changed"])
def withdrawn(
    request: pytest.FixtureRequest,
    personas: Personas,
    follow_up: AppointmentType,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> WaitlistEntry:
    """An entry whose open offer of the freed time staff withdrew, by removal or by a change;
    the next waiting patient ("Next") has been offered the time instead."""
    entry = wait(personas, reachable(personas, "Pat"), follow_up)
    wait(personas, reachable(personas, "Next"), follow_up)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(personas, freed)
    assert offer_of(entry).status == WaitlistOfferStatus.OFFERED
    with django_capture_on_commit_callbacks(execute=True):
        response = withdraw(personas, entry, request.param, follow_up)
    assert response.status_code == 302
    return entry


def next_patient(entry: WaitlistEntry) -> WaitlistEntry:
    return WaitlistEntry.objects.exclude(pk=entry.pk).get(patient__given_name="Next")


def offer_events(offer: WaitlistOffer) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type="waitlist_offer", object_id=str(offer.pk)).order_by(
            "seq"
        )
    )


def test_an_offer_closed_by_removal_or_change_is_withdrawn_and_the_time_goes_to_the_next(
    withdrawn: WaitlistEntry, freed: Appointment
) -> None:
    offer = offer_of(withdrawn)
    assert offer.status == WaitlistOfferStatus.WITHDRAWN
    assert offer.responded_at == NOW
    assert offer.get_status_display() == "Withdrawn by the clinic"
    handed_on = offer_of(next_patient(withdrawn))
    assert handed_on.status == WaitlistOfferStatus.OFFERED
    assert handed_on.start == freed.start
    assert not WaitlistOffer.objects.filter(status=WaitlistOfferStatus.DECLINED).exists()
    (audit,) = AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_type="waitlist_entry", object_id=str(withdrawn.pk)
    )
    assert audit.detail["withdrawn"] == [offer.pk]
    assert audit.patient_ids == [withdrawn.patient_id]


def test_the_removal_audit_names_no_withdrawn_offer_when_none_was_open(
    personas: Personas, follow_up: AppointmentType
) -> None:
    entry = wait(personas, reachable(personas, "Quiet"), follow_up)
    assert withdraw(personas, entry, "removed", follow_up).status_code == 302
    (audit,) = AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_type="waitlist_entry", object_id=str(entry.pk)
    )
    assert audit.detail["event"] == "removed from the waitlist"
    assert audit.detail["withdrawn"] == []


def test_the_patients_link_says_the_clinic_changed_or_closed_the_request_and_offers_no_buttons(
    withdrawn: WaitlistEntry,
) -> None:
    offer = offer_of(withdrawn)
    before = len(offer_events(offer))

    page = Client().get(link_of(withdrawn))

    assert page.status_code == 410
    html = page.content.decode()
    assert "This offer is no longer open" in html
    assert "Your waitlist request was changed or closed by the clinic" in html
    assert "please call the clinic" in html
    for absent in (
        "Thank you",
        "We will offer this time to someone else",
        "An earlier time is free",
        "Yes, I take this time",
        "No, thank you",
        'name="answer"',
        # Nothing about the patient or the visit beyond what any closed offer page shows.
        "Waiting",  # the family name
        "Follow-up",
        "Mei",
        "Lee",
    ):
        assert absent not in html
    events = offer_events(offer)
    assert len(events) == before + 1
    assert events[-1].action == AuditAction.VIEW
    assert events[-1].actor_username == "patient (signed link)"
    assert events[-1].patient_ids == [withdrawn.patient_id]


def test_a_changed_entrys_link_says_the_patient_still_waits_and_a_removed_ones_does_not(
    withdrawn: WaitlistEntry,
) -> None:
    withdrawn.refresh_from_db()
    page = Client().get(link_of(withdrawn))
    assert b"Your waitlist request was changed or closed by the clinic" in page.content
    still_waiting = b"You are still on our waitlist" in page.content
    assert still_waiting == (withdrawn.status == WaitlistStatus.WAITING)


REFUSED = {"accept": "acceptance refused", "decline": "decline refused"}


@pytest.mark.parametrize("answer", ["accept", "decline", "maybe"])
def test_answering_a_withdrawn_offer_is_refused_with_the_same_page_and_changes_nothing(
    withdrawn: WaitlistEntry,
    answer: str,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    offer = offer_of(withdrawn)
    withdrawn.refresh_from_db()
    status_before = withdrawn.status
    offers_before = list(WaitlistOffer.objects.order_by("pk").values_list("pk", "status"))
    events_before = len(offer_events(offer))
    opened = Client().get(link_of(withdrawn))

    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(link_of(withdrawn), {"answer": answer})

    assert response.status_code == 410
    assert b"Your waitlist request was changed or closed by the clinic" in response.content
    assert b"Thank you" not in response.content
    assert b"this time has been taken" not in response.content
    assert b"Yes, I take this time" not in response.content
    assert without_csrf_tokens(response.content) == without_csrf_tokens(opened.content)
    assert not Appointment.objects.filter(patient=withdrawn.patient).exists()
    offer.refresh_from_db()
    assert offer.status == WaitlistOfferStatus.WITHDRAWN
    assert offer.responded_at == NOW
    withdrawn.refresh_from_db()
    assert withdrawn.status == status_before
    # Nothing was handed on again: the time already went to the next patient.
    assert list(WaitlistOffer.objects.order_by("pk").values_list("pk", "status")) == offers_before
    events = offer_events(offer)
    assert len(events) == events_before + 2  # the page opened, then the refused answer
    refused = events[-1]
    assert refused.action == AuditAction.VIEW
    assert refused.actor_username == "patient (signed link)"
    if answer in REFUSED:
        assert refused.detail == {"event": REFUSED[answer], "status": "withdrawn"}


def test_staff_see_withdrawn_where_offers_are_listed_and_a_real_decline_stays_declined(
    personas: Personas,
    withdrawn: WaitlistEntry,
    freed: Appointment,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    nxt = next_patient(withdrawn)
    with django_capture_on_commit_callbacks(execute=True):
        declined = Client().post(link_of(nxt), {"answer": "decline"})
    assert b"Thank you" in declined.content
    assert offer_of(nxt).status == WaitlistOfferStatus.DECLINED
    withdrawn.refresh_from_db()
    client = login_client(Client(), personas.front_desk)

    show = "" if withdrawn.status == WaitlistStatus.WAITING else "closed"
    listing = client.get(reverse("scheduling:waitlist"), {"show": show}).content.decode()
    row = listing.split("Waiting, Pat", 1)[1].split("</tr>", 1)[0]
    assert "Withdrawn by the clinic" in row
    assert "Declined" not in row
    next_row = client.get(reverse("scheduling:waitlist")).content.decode()
    next_row = next_row.split("Waiting, Next", 1)[1].split("</tr>", 1)[0]
    assert "Declined" in next_row
    assert "Withdrawn" not in next_row

    slot = client.get(
        reverse("scheduling:waitlist_slot"),
        {
            "schedule": str(freed.schedule_id),
            "start": freed.start.isoformat(),
            "end": freed.end.isoformat(),
        },
    ).content.decode()
    offers = slot.split('id="offers-heading"', 1)[1]
    assert "Waiting, Pat · 09:00 · Withdrawn by the clinic" in offers
    assert "Waiting, Next · 09:00 · Declined" in offers
