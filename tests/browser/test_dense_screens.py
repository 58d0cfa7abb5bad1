"""The desk's screens on a busy morning: the Today page shows the arrival grid first (at least
15 rows above the fold at 1440 x 900), the flow board's columns start at the top and sit on one
row, and checking in a patient with a co-pay takes few interactions. Screenshots are kept in
pytest's temporary folder (and where FRONTDESK_SCREENSHOTS asks)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import Personas, make_patient, open_drawer
from frontdesk.billing.models import EntryKind, LedgerEntry
from frontdesk.clinic.models import AppointmentType, Location, Provider
from frontdesk.flow.models import PRIORITY_RANK, FlowStatus, Priority, Queue, QueueEntry
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.scheduling.models import Appointment, AppointmentStatus, Schedule

from .helpers import assert_accessible, sign_in
from .test_flow import _nothing_outstanding

pytestmark = pytest.mark.browser

PROVIDERS = (
    ("Amelia", "Okonkwo-Hartley", "MD"),
    ("Bartholomew", "Fitzgerald-Nguyen", "DO"),
    ("Mei", "Lee", "MD"),
    ("Priya", "Raghunathan-Castellanos", "NP"),
    ("Jonas", "Weatherby", "MD"),
    ("Francesca", "Delacroix-Oyelaran", "PA-C"),
    ("Samuel", "Achterberg", "MD"),
)
SLOTS = 4  # appointments per provider, 20 minutes apart
# Rows of the arrival grid that must be whole inside the first screen.
MIN_ROWS = {(1440, 900): 15, (1920, 1080): 18}
# The board's columns start this close to the top of the window (under the bar and the title).
BOARD_TOP_PX = 200
# Checking in a booked patient and taking the co-pay: Enter, how they paid, the read-back box,
# the button; one more is spared for a late patient's choice.
MAX_CHECK_IN_INTERACTIONS = 5


@pytest.fixture
def midday(personas: Personas) -> None:
    """The clinic's clock at about noon, whenever the tests run: a morning's appointments from
    40 minutes ago to an hour ahead never cross midnight."""
    hour = timezone.now().astimezone(dt.UTC).hour
    offset = 12 - hour  # from -11 to +12 hours, all zones that exist
    # Etc/GMT-5 is five hours ahead of UTC (POSIX signs).
    clinic = personas.clinic
    clinic.time_zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"
    clinic.save(update_fields=["time_zone"])


def _busy_morning(personas: Personas) -> list[Appointment]:
    """Seven providers, four appointments each from 40 minutes ago: each provider's first
    patient has waited since before their time (so every provider runs late), the rest are
    expected. One waiting patient paid a co-pay at check-in."""
    clinic = personas.clinic
    now = timezone.now().replace(second=0, microsecond=0)
    day = now.astimezone(clinic_zone(clinic)).date()
    location = Location.objects.create(clinic=clinic, name="Northside")
    kind = AppointmentType.objects.create(
        clinic=clinic, name="Follow-up visit", duration_minutes=20
    )
    made = []
    for i, (given, family, credentials) in enumerate(PROVIDERS):
        provider = Provider.objects.create(
            clinic=clinic,
            given_name=given,
            family_name=family,
            credentials=credentials,
            specialty="Family",
        )
        schedule = Schedule.objects.create(clinic=clinic, provider=provider, location=location)
        queue = Queue.objects.create(
            clinic=clinic, provider=provider, code="ABCDEFG"[i], name=str(provider)
        )
        for slot in range(SLOTS):
            start = now + dt.timedelta(minutes=20 * slot - 40)
            end = start + dt.timedelta(minutes=20)
            arrived = slot == 0
            appointment = Appointment.objects.create(
                clinic=clinic,
                patient=make_patient(
                    clinic, given_name=f"Pat{i}{slot}", family_name=f"Morning{i}{slot}"
                ),
                schedule=schedule,
                provider=provider,
                appointment_type=kind,
                start=start,
                end=end,
                busy_start=start,
                busy_end=end,
                status=AppointmentStatus.CHECKED_IN if arrived else AppointmentStatus.BOOKED,
                created_at=now - dt.timedelta(days=7),
                updated_at=now - dt.timedelta(days=7),
            )
            made.append(appointment)
            if arrived:
                at = start - dt.timedelta(minutes=5)
                QueueEntry.objects.create(
                    clinic=clinic,
                    queue=queue,
                    patient=appointment.patient,
                    appointment=appointment,
                    day=day,
                    number=1,
                    ticket=f"{queue.code}-001",
                    priority=Priority.NORMAL,
                    priority_rank=PRIORITY_RANK[Priority.NORMAL],
                    status=FlowStatus.WAITING,
                    checked_in_at=at,
                    status_changed_at=at,
                )
    paid = made[0]
    LedgerEntry.objects.create(
        clinic=clinic,
        patient=paid.patient,
        appointment=paid,
        kind=EntryKind.PAYMENT,
        method="card",
        amount=Decimal("25.00"),
        description="Payment at check-in",
        created_at=now - dt.timedelta(minutes=45),
    )
    return made


def _shot(page: Page, folder: Path, name: str) -> None:
    path = folder / name
    page.screenshot(path=str(path))
    extra = os.environ.get("FRONTDESK_SCREENSHOTS")
    if extra:
        shutil.copy(path, Path(extra) / name)


def _rows_above_the_fold(page: Page) -> dict[str, int]:
    """Rows of the Today page's appointment tables lying whole inside the window."""
    result: dict[str, int] = page.evaluate(
        """() => {
          const h = window.innerHeight;
          const rows = [...document.querySelectorAll('main table tbody tr')];
          return {
            rows: rows.length,
            visible: rows.filter(r => {
              const b = r.getBoundingClientRect();
              return b.height > 0 && b.top >= 0 && b.bottom <= h;
            }).length,
          };
        }"""
    )
    return result


@pytest.mark.parametrize(("width", "height"), sorted(MIN_ROWS))
def test_the_today_page_shows_the_arrival_grid_first_on_a_busy_morning(
    transactional_audit: None,
    midday: None,
    personas: Personas,
    page: Page,
    tmp_path: Path,
    width: int,
    height: int,
) -> None:
    appointments = _busy_morning(personas)
    assert len(appointments) >= 20
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/accounts/login/?next=/flow/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    _shot(page, tmp_path, f"today-{width}x{height}.png")

    counted = _rows_above_the_fold(page)
    print(f"today {width}x{height}: {counted['visible']} of {counted['rows']} rows above the fold")
    assert counted["rows"] == len(appointments)
    assert counted["visible"] >= MIN_ROWS[(width, height)], counted

    # The next arrival is still one key away.
    expect(page.get_by_role("button", name=re.compile(r"^Check in Pat"))).to_be_focused()
    # The late providers fold into one line; opening it shows each with its button.
    late = page.get_by_text(re.compile(r"^7 providers running late"))
    expect(late).to_be_visible()
    announce = page.get_by_role("button", name="Announce on the screens")
    expect(announce).to_have_count(0)  # folded away
    late.click()
    expect(announce).to_have_count(7)
    expect(announce.first).to_be_visible()

    # Names open the chart; the waiting patient who paid has their receipt one click away.
    first = appointments[0]
    name = f"{first.patient.family_name}, {first.patient.given_name}"
    link = page.get_by_role("link", name=name, exact=True)
    expect(link).to_have_attribute("href", f"/patients/{first.patient.pk}/")
    receipt = LedgerEntry.objects.get(appointment=first)
    row = page.get_by_role("row").filter(has_text=first.patient.family_name)
    expect(row.get_by_role("link", name=re.compile("^Receipt"))).to_have_attribute(
        "href", f"/billing/receipts/{receipt.pk}/"
    )
    expect(row.get_by_role("link", name=re.compile("^Check-in"))).to_have_attribute(
        "href", f"/flow/check-in/{first.pk}/"
    )
    assert_accessible(page)


def test_the_flow_board_columns_start_at_the_top_on_one_row(
    transactional_audit: None, midday: None, personas: Personas, page: Page, tmp_path: Path
) -> None:
    _busy_morning(personas)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/accounts/login/?next=/flow/board/")
    sign_in(page, personas.nurse)
    expect(page.get_by_role("heading", level=1)).to_have_text("Flow board")
    _shot(page, tmp_path, "board-1440x900.png")

    layout = page.evaluate(
        """() => ({
          w: window.innerWidth,
          scrollWidth: document.scrollingElement.scrollWidth,
          tops: [...document.querySelectorAll('.board-column')]
            .map(c => Math.round(c.getBoundingClientRect().top)),
          calls: [...document.querySelectorAll('.call-next-queue')]
            .map(c => Math.round(c.getBoundingClientRect().height)),
        })"""
    )
    print(f"board 1440x900: columns at {layout['tops']}")
    assert len(layout["tops"]) == 5
    assert len(set(layout["tops"])) == 1, layout  # one row: nothing wrapped
    assert layout["tops"][0] <= BOARD_TOP_PX, layout
    assert layout["scrollWidth"] <= layout["w"], layout  # the page itself never scrolls sideways
    # Each queue's call-next is one compact line in the column head.
    assert len(layout["calls"]) == len(PROVIDERS), layout
    assert max(layout["calls"]) <= 40, layout

    page.get_by_role("button", name=re.compile(r"^Call next · C")).click()
    expect(page.get_by_role("status")).to_contain_text("Called C-001.")
    expect(page.get_by_role("region", name=re.compile(r"^Called"))).to_contain_text("C-001")
    assert_accessible(page)


def test_checking_in_a_booked_patient_and_taking_the_copay_takes_few_interactions(
    transactional_audit: None,
    personas: Personas,
    page: Page,
    capsys: pytest.CaptureFixture[str],
) -> None:
    appointment = _nothing_outstanding(personas, copay=Decimal("25.00"))
    open_drawer(personas.front_desk)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/accounts/login/?next=/flow/")
    sign_in(page, personas.front_desk)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")

    interactions = 0
    expect(page.get_by_role("button", name="Check in Ines")).to_be_focused()
    page.keyboard.press("Enter")
    interactions += 1
    expect(page.get_by_role("heading", level=1)).to_have_text("Check in Duarte, Ines")
    payment = page.get_by_role("region", name="Take a payment")
    expect(payment.get_by_label("Amount received")).to_have_value("25.00")
    payment.get_by_label("Paid by").select_option("card")
    interactions += 1
    page.get_by_label("The patient confirmed their name and birth date as read back").check()
    interactions += 1
    page.get_by_role("button", name="Check in and issue ticket").click()
    interactions += 1
    expect(page.get_by_role("status")).to_contain_text("Checked in Ines Duarte: ticket A-001")
    with capsys.disabled():
        print(f"\ninteractions check-in: {interactions}")

    assert interactions <= MAX_CHECK_IN_INTERACTIONS
    paid = LedgerEntry.objects.get(appointment=appointment, kind=EntryKind.PAYMENT)
    assert paid.amount == Decimal("25.00")
