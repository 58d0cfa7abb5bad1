"""The waiting-room screen on a wall display: at 1920 x 1080, 1440 x 900 and 1280 x 720, with a busy
morning's load, nothing needs scrolling and every row shown is inside the screen; lines that
do not fit are shown a page at a time, turning by themselves."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from conftest import Personas, make_patient
from frontdesk.flow import display as screens
from frontdesk.flow.models import (
    PRIORITY_RANK,
    DelayAnnouncement,
    FlowStatus,
    Priority,
    Queue,
    QueueEntry,
    WaitingRoomDisplay,
)
from frontdesk.lib.clinic_time import clinic_zone

from .helpers import assert_accessible

pytestmark = pytest.mark.browser

SIZES = ((1920, 1080), (1440, 900), (1280, 720))
PAGE_MS = 8_000
CODES = [
    *"ABCDEFGHJKLMNPQRSTUVXYZ",
    "AA",
    "AB",
]  # W is the walk-ins' queue  # display.js turns the page this often
NAMES = (
    "Amelia Okonkwo-Hartley, MD",
    "Bartholomew Fitzgerald-Nguyen, DO",
    "Mei Lee, MD",
    "Priya Raghunathan-Castellanos, NP",
    "Jonas Weatherby, MD",
    "Francesca Delacroix-Oyelaran, PA-C",
    "Samuel Achterberg, MD",
)


def _load(personas: Personas, *, providers: int, waiting: int, notices: int) -> str:
    """Queues for `providers` providers plus walk-ins, `waiting` tickets waiting (a third of
    them walk-ins), six called to rooms and `notices` delay notices; the screen's path."""
    clinic = personas.clinic
    now = timezone.now()
    day = now.astimezone(clinic_zone(clinic)).date()
    queues = [
        Queue.objects.create(clinic=clinic, code=CODES[i], name=_name(i)) for i in range(providers)
    ]
    walk_ins = Queue.objects.create(clinic=clinic, code="W", name="Walk-ins")
    numbers: dict[int, int] = {}

    def ticket(queue: Queue, status: str, minutes_ago: int, room: str = "") -> None:
        numbers[queue.pk] = numbers.get(queue.pk, 0) + 1
        at = now - dt.timedelta(minutes=minutes_ago)
        QueueEntry.objects.create(
            clinic=clinic,
            queue=queue,
            patient=make_patient(clinic, family_name=f"Waiting{len(numbers)}x{numbers[queue.pk]}"),
            day=day,
            number=numbers[queue.pk],
            ticket=f"{queue.code}-{numbers[queue.pk]:03d}",
            priority=Priority.NORMAL,
            priority_rank=PRIORITY_RANK[Priority.NORMAL],
            status=status,
            room=room,
            checked_in_at=at,
            status_changed_at=at,
        )

    for i in range(6):
        ticket(queues[i % len(queues)], FlowStatus.CALLED, 10 - i, room=f"Exam room {i + 1}")
    for i in range(waiting):
        # A third to walk-ins, the rest dealt to the providers in turn.
        queue = walk_ins if i % 3 == 0 else queues[(i - i // 3 - 1) % len(queues)]
        ticket(queue, FlowStatus.WAITING, 90 - i)
    for i in range(notices):
        DelayAnnouncement.objects.create(
            clinic=clinic,
            queue=None if i == 0 else [*queues, walk_ins][i % (len(queues) + 1)],
            minutes=15 + 5 * i,
            created_at=now,
            ends_at=now + dt.timedelta(hours=1),
        )
    # Made directly: an audited service would leave rows the end-of-test flush cannot delete.
    screen = WaitingRoomDisplay.objects.create(clinic=clinic, name="Main", created_at=now)
    return f"/flow/display/?token={screens.display_token(screen)}"


def _name(i: int) -> str:
    return NAMES[i] if i < len(NAMES) else f"Provider {i + 1}, MD"


def _open(page: Page, path: str, width: int, height: int) -> None:
    """The screen at this size, its timers (page turns, refreshes) on Playwright's clock."""
    page.set_viewport_size({"width": width, "height": height})
    page.clock.install()
    page.goto(path)


def _shown(page: Page) -> list[str]:
    """The waiting lines on screen, each checked to lie inside the viewport."""
    fits = page.evaluate(
        """() => {
          const h = window.innerHeight, w = window.innerWidth;
          const rows = [...document.querySelectorAll('[data-row]')].filter(r => !r.hidden);
          return {
            scroll: document.scrollingElement.scrollHeight,
            scrollWidth: document.scrollingElement.scrollWidth,
            h, w,
            clipped: [...document.querySelectorAll('[data-row] td, [data-row]')]
              .filter(c => !c.closest('[hidden]') && c.scrollWidth > c.clientWidth + 1)
              .map(c => c.textContent.trim()),
            outside: rows.filter(r => {
              const b = r.getBoundingClientRect();
              return b.top < 0 || b.left < 0 || b.bottom > h || b.right > w;
            }).map(r => r.textContent.trim()),
            lines: [...document.querySelectorAll('tbody [data-row]')]
              .filter(r => !r.hidden).map(r => r.cells[0].textContent.trim()),
          };
        }"""
    )
    assert fits["scroll"] <= fits["h"], fits
    assert fits["scrollWidth"] <= fits["w"], fits
    assert fits["outside"] == [], fits
    assert fits["clipped"] == [], fits
    return list(fits["lines"])


def _screenshot(page: Page, name: str) -> None:
    # Kept where the person running the tests asks, to look at from across a room.
    folder = os.environ.get("FRONTDESK_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name))


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_busy_morning_fits_the_wall_screen_without_scrolling(
    transactional_audit: None, personas: Personas, page: Page, width: int, height: int
) -> None:
    path = _load(personas, providers=7, waiting=60, notices=10)
    _open(page, path, width, height)
    _screenshot(page, f"display-{width}x{height}.png")
    seen = set(_shown(page))
    pages = int(page.locator("#display").get_attribute("data-pages") or "1")
    for _ in range(pages - 1):
        page.clock.run_for(PAGE_MS)
        seen |= set(_shown(page))
    assert seen == {*map(_name, range(7)), "Walk-ins"}
    text = page.locator("#display").inner_text()
    assert "All providers are running about 15 minutes late." in text
    assert "about 0 min" not in text
    assert_accessible(page)


def test_lines_that_do_not_fit_are_shown_a_page_at_a_time(
    transactional_audit: None, page: Page, personas: Personas
) -> None:
    _open(page, _load(personas, providers=24, waiting=72, notices=0), 1280, 720)
    _screenshot(page, "display-paged-1280x720.png")
    first = _shown(page)
    display = page.locator("#display")
    pages = int(display.get_attribute("data-pages") or "1")
    assert pages > 1
    assert page.locator("[data-page-label]").inner_text() == f"page 1 of {pages}"

    page.clock.run_for(PAGE_MS)
    second = _shown(page)
    assert display.get_attribute("data-page") == "2"
    assert page.locator("[data-page-label]").inner_text() == f"page 2 of {pages}"
    assert second and not set(first) & set(second)

    seen = set(first) | set(second)
    for _ in range(pages - 2):
        page.clock.run_for(PAGE_MS)
        seen |= set(_shown(page))
    assert seen == {*map(_name, range(24)), "Walk-ins"}
    page.clock.run_for(PAGE_MS)  # back to the first page
    assert _shown(page) == first
