"""The desk queue in the browser: the front desk lands on it after signing in, claims an item
with one click, and a snooze without a reason is refused in words; no serious accessibility
violations on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from conftest import Personas, login_client, make_patient
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.desk import services
from frontdesk.scheduling.models import Appointment, Schedule

from .conftest import TIMEOUT_MS
from .helpers import assert_accessible, sign_in
from .test_flow_live import live_server_process  # noqa: F401 (the fixture: the server in its own process)

pytestmark = pytest.mark.browser


def _unconfirmed(personas: Personas) -> Appointment:
    clinic = personas.clinic
    location = Location.objects.create(clinic=clinic, name="Northside")
    provider = Provider.objects.create(
        clinic=clinic, given_name="Mei", family_name="Lee", credentials="MD"
    )
    schedule = Schedule.objects.create(clinic=clinic, provider=provider, location=location)
    visit = AppointmentType.objects.create(clinic=clinic, name="Follow-up", duration_minutes=20)
    start = timezone.now() + dt.timedelta(hours=2, minutes=3)
    return Appointment.objects.create(
        clinic=clinic,
        patient=make_patient(clinic, given_name="Adaeze", family_name="Okonkwo"),
        schedule=schedule,
        provider=provider,
        appointment_type=visit,
        start=start,
        end=start + dt.timedelta(minutes=20),
        busy_start=start,
        busy_end=start + dt.timedelta(minutes=20),
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )


def test_the_front_desk_lands_on_the_desk_queue_and_claims_an_item(
    transactional_audit: None, personas: Personas, page: Page
) -> None:
    _unconfirmed(personas)
    page.goto("/accounts/login/")
    sign_in(page, personas.front_desk)
    expect(page).to_have_url(re.compile(r"/desk/$"))
    expect(page.get_by_role("heading", name="Desk queue")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Okonkwo, Adaeze")
    expect(row).to_contain_text("Due in 2 h")
    expect(row).to_contain_text("Confirm the appointment")
    expect(row).to_contain_text("Nobody yet")
    assert_accessible(page)

    interactions = 0
    row.get_by_role("button", name=re.compile(r"^Claim")).click()
    interactions += 1
    row = page.get_by_role("row").filter(has_text="Okonkwo, Adaeze")
    expect(row).to_contain_text("It is yours now.")
    expect(row.get_by_role("cell", name="You", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name=re.compile(r"^Release"))).to_be_visible()
    assert interactions == 1
    assert_accessible(page)

    row.get_by_role("link", name=re.compile(r"^Snooze or hand over")).click()
    reason = row.get_by_label("Why")
    expect(reason).to_be_visible()
    row.get_by_label("Snooze until").fill("2020-01-01T09:00")
    reason.fill("Patient asked for a call after lunch")
    row.get_by_role("button", name="Snooze").click()
    expect(row.get_by_role("alert")).to_contain_text("That time has already passed")
    expect(row.get_by_label("Why")).to_have_value("Patient asked for a call after lunch")
    assert_accessible(page)

    # Search stays one key away.
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search patients")).to_be_focused()


def test_a_desk_queue_on_another_server_process_shows_a_colleagues_claim_without_reload(
    live_server_process: str,  # noqa: F811 (the fixture imported above)
    personas: Personas,
    browser: Browser,
) -> None:
    appointment = _unconfirmed(personas)
    signed_in = login_client(Client(), personas.front_desk)
    context = browser.new_context(base_url=live_server_process, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": signed_in.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server_process,
            }
        ]
    )
    queue = context.new_page()
    try:
        queue.goto("/desk/")
        # "Live" alone: the page follows the desk's event stream, not the polling fallback.
        expect(queue.locator("#live-state")).to_have_text("Live")
        row = queue.get_by_role("row").filter(has_text="Okonkwo, Adaeze")
        expect(row).to_contain_text("Nobody yet")
        services.desk_item_claim(
            context=SYSTEM_CONTEXT, user=personas.supervisor, kind="unconfirmed", ref=appointment.pk
        )
        expect(row).to_contain_text("Sue", timeout=2000)
        assert_accessible(queue)
    finally:
        context.close()
