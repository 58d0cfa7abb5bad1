"""Shared steps for browser tests: signing in through the real form, checking accessibility,
counting the officer's interactions."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page

from conftest import PASSWORD
from frontdesk.accounts.models import User

# Impacts that fail a test; "minor" and "moderate" findings are left to design review.
BLOCKING_IMPACTS = ("serious", "critical")

_axe = Axe()


def sign_in(page: Page, user: User, password: str = PASSWORD) -> None:
    """Fill in and submit the sign-in form; the page must already show it."""
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _describe(violation: dict[str, object]) -> str:
    lines = [
        f"- {violation['id']} ({violation['impact']}): {violation['help']}",
        f"  {violation['helpUrl']}",
    ]
    nodes = violation.get("nodes")
    for node in nodes if isinstance(nodes, list) else []:
        target = ", ".join(str(part) for part in node.get("target", []))
        lines.append(f"    at {target}: {node.get('html', '')}")
        summary = str(node.get("failureSummary") or "").replace("\n", "\n      ")
        if summary:
            lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """No serious or critical axe-core violations on the page as it is now."""
    results = _axe.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        report = "\n".join(_describe(v) for v in blocking)
        raise AssertionError(
            f"{len(blocking)} serious or critical accessibility violation(s) on {page.url}:\n"
            f"{report}"
        )


class Counted:
    """The officer's hands: each action goes through here and is counted. Each acts on a page
    that has loaded, as a person's does: before its scripts (htmx) run, a choice would change
    the field but not what the page does with it."""

    def __init__(self) -> None:
        self.count = 0

    def _ready(self, target: Locator) -> None:
        target.page.wait_for_load_state()

    def fill(self, field: Locator, value: str) -> None:
        self.count += 1
        self._ready(field)
        field.fill(value)

    def select(self, field: Locator, value: str | None = None, *, label: str | None = None) -> None:
        self.count += 1
        self._ready(field)
        if label is not None:
            field.select_option(label=label)
        else:
            field.select_option(value)

    def click(self, target: Locator) -> None:
        self.count += 1
        self._ready(target)
        target.click()
