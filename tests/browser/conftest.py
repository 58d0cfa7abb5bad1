"""Fixtures for browser tests: one Chromium per run, a fresh context and page per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

# Playwright's sync API keeps an event loop running in the main thread; Django would otherwise
# refuse database work from it (the live server thread shares the test database).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Playwright's own waits (expect, clicks) give up after this many milliseconds.
TIMEOUT_MS = 5_000


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: object) -> Iterator[Page]:
    """A new browser context (no cookies, no storage) for every test."""
    context = browser.new_context(base_url=str(live_server), locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    new_page = context.new_page()
    server_errors: list[str] = []
    new_page.on(
        "response",
        lambda response: (
            server_errors.append(f"{response.status} {response.request.method} {response.url}")
            if response.status >= 500
            else None
        ),
    )
    yield new_page
    context.close()
    assert not server_errors, f"the server failed: {server_errors} (see the captured log)"


# The root conftest's `transactional_audit` lifts the audit triggers for the flush that ends a
# committing test and relies on `audit_triggers_restored` to put them back after it. With a live
# server, pytest-django's autouse `_live_server_helper` starts `transactional_db` before any
# fixture the test names, so the triggers would come back before the flush (which then fails).
# This override (same name, so it applies to the browser tests only) fixes the order.


@pytest.fixture(autouse=True)
def _live_server_helper(request: pytest.FixtureRequest) -> None:
    """Starts `audit_triggers_restored` before pytest-django's helper, so it finishes last."""
    if "transactional_audit" in request.fixturenames:
        request.getfixturevalue("audit_triggers_restored")
    request.getfixturevalue("_live_server_helper")
