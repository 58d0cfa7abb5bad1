"""Patient flow in the browser: check-in from the Today page in at most five interactions, and
the flow board on another screen showing the check-in within a second, without a reload."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from conftest import Personas, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.flow import services
from frontdesk.flow.models import ConsentKind, PatientConsent, QueueEntry
from frontdesk.patients.models import Coverage, Patient, Payer
from frontdesk.scheduling.models import Appointment, Schedule

from .conftest import TIMEOUT_MS
from .helpers import assert_accessible, sign_in

pytestmark = pytest.mark.browser

MAX_INTERACTIONS = 5


def _nothing_outstanding(personas: Personas, *, copay: Decimal | None = None) -> Appointment:
    """A patient due now whose card image, address and consent are all on file (and whose
    coverage asks `copay`, if given)."""
    today = timezone.localdate()
    patient = make_patient(
        personas.clinic,
        given_name="Ines",
        family_name="Duarte",
        address_line1="12 Elm Street",
        address_confirmed_on=today - dt.timedelta(days=30),
    )
    payer = Payer.objects.create(clinic=personas.clinic, name="Blue Harbor Health")
    Coverage.objects.create(
        patient=patient,
        payer=payer,
        rank=1,
        member_id="BH123",
        effective_date=today - dt.timedelta(days=365),
        card_front="cards/front.png",
        copay=copay,
    )
    PatientConsent.objects.create(
        patient=patient,
        kind=ConsentKind.TREATMENT,
        signed_on=today - dt.timedelta(days=30),
        recorded_at=timezone.now(),
    )
    location = Location.objects.create(clinic=personas.clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=personas.clinic,
        given_name="Mei",
        family_name="Lee",
        credentials="MD",
        specialty="Family",
    )
    schedule = Schedule.objects.create(clinic=personas.clinic, provider=provider, location=location)
    kind = AppointmentType.objects.create(
        clinic=personas.clinic, name="Follow-up visit", duration_minutes=20
    )
    start = timezone.now().replace(second=0, microsecond=0)
    end = start + dt.timedelta(minutes=20)
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


def _check_in(page: Page, patient: Patient) -> int:
    """From the Today page to a ticket; returns the interactions it took."""
    interactions = 0
    next_arrival = page.get_by_role("button", name=f"Check in {patient.given_name}")
    expect(next_arrival).to_be_focused()
    page.keyboard.press("Enter")
    interactions += 1
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Check in {patient.family_name}, {patient.given_name}"
    )
    expect(page.get_by_text("D-U-A-R-T-E")).to_be_visible()
    expect(page.get_by_text("Nothing outstanding.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("The patient confirmed their name and birth date as read back").check()
    interactions += 1
    page.get_by_role("button", name="Check in and issue ticket").click()
    interactions += 1
    expect(page.get_by_role("status")).to_contain_text("ticket A-001")
    return interactions


def test_checking_in_a_patient_with_nothing_outstanding_takes_at_most_five_interactions(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    appointment = _nothing_outstanding(personas)
    page.goto("/accounts/login/?next=/flow/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    assert_accessible(page)

    interactions = _check_in(page, appointment.patient)

    assert interactions <= MAX_INTERACTIONS
    expect(page).to_have_url(re.compile(r"/flow/$"))
    expect(page.get_by_role("region", name=re.compile(r"^Waiting \d"))).to_contain_text(
        "Duarte, Ines"
    )
    assert_accessible(page)
    entry = QueueEntry.objects.get()
    assert entry.ticket == "A-001" and entry.appointment == appointment
    appointment.refresh_from_db()
    assert appointment.status == "checked-in"


def test_a_check_in_at_the_desk_shows_on_the_nurses_board_within_a_second(
    transactional_audit: None, personas: Personas, page: Page, browser: Browser, live_server: object
) -> None:
    appointment = _nothing_outstanding(personas)
    board_context = browser.new_context(base_url=str(live_server), locale="en-US")
    board_context.set_default_timeout(TIMEOUT_MS)
    board = board_context.new_page()
    try:
        board.goto("/accounts/login/?next=/flow/board/")
        sign_in(board, personas.nurse)
        expect(board.get_by_role("heading", level=1)).to_have_text("Flow board")
        waiting = board.get_by_role("region", name=re.compile(r"^Waiting"))
        expect(waiting).to_contain_text("Nobody.")
        assert_accessible(board)

        page.goto("/accounts/login/?next=/flow/")
        sign_in(page, personas.front_desk)
        _check_in(page, appointment.patient)
        shown_at_desk = time.monotonic()

        expect(waiting).to_contain_text("A-001", timeout=1000)
        assert time.monotonic() - shown_at_desk < 1.0
        expect(waiting).to_contain_text("Duarte, Ines")

        # Call next in one click: the card moves on without a reload.
        board.get_by_role("button", name=re.compile(r"^Call next · A")).click()
        expect(board.get_by_role("status")).to_contain_text("Called A-001.")
        expect(board.get_by_role("region", name=re.compile(r"^Called"))).to_contain_text("A-001")
        assert_accessible(board)
    finally:
        board_context.close()


def test_the_walk_in_screen_and_check_out_pages_are_accessible(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    from frontdesk.flow import display
    from frontdesk.flow.models import FlowStatus

    appointment = _nothing_outstanding(personas)
    entry = services.appointment_check_in(
        context=SYSTEM_CONTEXT, user=personas.front_desk, appointment=appointment
    )
    entry = services.queue_entry_move(
        context=SYSTEM_CONTEXT, user=None, entry=entry, to=FlowStatus.CALLED, room="Room 2"
    )
    screen = display.display_create(context=SYSTEM_CONTEXT, clinic=personas.clinic, name="TV")

    page.goto(f"/flow/display/?token={display.display_token(screen)}")
    expect(page.get_by_role("heading", name="Now serving")).to_be_visible()
    expect(page.get_by_role("region", name="Now serving")).to_contain_text("A-001 → Room 2")
    assert_accessible(page)
    services.queue_entry_move(context=SYSTEM_CONTEXT, user=None, entry=entry, to=FlowStatus.IN_ROOM)

    page.goto("/accounts/login/?next=/flow/walk-in/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", level=1)).to_have_text("Walk-in or emergency")
    assert_accessible(page)
    page.get_by_label("Given (first) name").fill("Walter")
    page.get_by_label("Family (last) name").fill("Inman")
    page.get_by_label("Birth date").fill("03/14/1985")
    page.get_by_label("Priority").select_option("emergency")
    page.get_by_role("button", name="Register and queue").click()
    expect(page.get_by_text("Say why this patient cannot wait their turn.")).to_be_visible()
    expect(page.get_by_label("Given (first) name")).to_have_value("Walter")
    page.get_by_label("Why urgent or emergency").fill("bleeding heavily")
    page.get_by_role("button", name="Register and queue").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Emergency: Walter Inman, ticket W-001. Clinician alerted"
    )
    assert_accessible(page)

    page.goto(f"/flow/check-out/{appointment.pk}/")
    expect(page.get_by_role("link", name="Book the follow-up")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Complete check-out").click()
    expect(page.get_by_role("status")).to_contain_text("Ines Duarte is checked out.")


# Counts the tones the board plays; the headless browser has no sound device to hear them on.
TONE_COUNTER = """
window.__tones = 0;
window.AudioContext = function () {
  return {
    currentTime: 0,
    destination: {},
    createOscillator: function () {
      return {
        frequency: {},
        connect: function () {},
        start: function () { window.__tones += 1; },
        stop: function () {}
      };
    }
  };
};
"""


def test_an_emergency_is_seen_and_heard_on_an_open_board_without_a_reload(
    transactional_audit: None, personas: Personas, browser: Browser, live_server: object
) -> None:
    appointment = _nothing_outstanding(personas)
    context = browser.new_context(base_url=str(live_server), locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(TONE_COUNTER)
    board = context.new_page()
    try:
        board.goto("/accounts/login/?next=/flow/board/")
        sign_in(board, personas.nurse)
        expect(board.get_by_role("heading", level=1)).to_have_text("Flow board")
        assert board.evaluate("window.__tones") == 0

        services.appointment_check_in(
            context=SYSTEM_CONTEXT,
            user=personas.front_desk,
            appointment=appointment,
            priority="emergency",  # type: ignore[arg-type]
            priority_reason="short of breath",
        )
        expect(board.locator('[role="alert"][data-emergency]')).to_contain_text("Emergency waiting")
        expect(board.get_by_role("region", name=re.compile(r"^Waiting"))).to_contain_text(
            "short of breath"
        )
        # The banner every clinician's page carries plays the tone as it shows the alert.
        expect(board.locator("[data-emergency-alert]")).to_contain_text("short of breath")
        assert board.evaluate("window.__tones") == 1
        assert_accessible(board)
    finally:
        context.close()
