"""Navigation per role, derived from the policy so a link is shown only where it works."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from frontdesk.accounts.policy import Action, role_may
from frontdesk.accounts.roles import Role


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    current: bool
    settings: bool  # folded under "Settings": set-up and rules, not the day's work


# Set-up and administration: visited now and then, so they fold under one "Settings" menu and
# the day's work keeps to one line of the bar.
_SETTINGS = frozenset(
    {
        "practices",
        "payers",
        "setup",
        "screens",
        "calendar_feed",
        "playbooks",
        "staff",
        "locks",
        "inquiry_settings",
        "letters",
        "records_settings",
        "account",
    }
)


_ITEMS: tuple[tuple[str, str, str, Action], ...] = (
    ("home", "Start", "home", Action.HOME),
    ("desk", "Desk queue", "desk:queue", Action.DESK_QUEUE_VIEW),
    ("search", "Patients", "patients:search", Action.PATIENT_SEARCH),
    ("register", "Register", "patients:register", Action.PATIENT_REGISTER),
    ("duplicates", "Duplicates", "patients:duplicates", Action.PATIENT_DUPLICATES_REPORT),
    ("today", "Today", "flow:today", Action.FLOW_TODAY),
    ("schedule", "Schedule", "scheduling:day", Action.APPOINTMENT_VIEW),
    ("board", "Flow board", "flow:board", Action.FLOW_BOARD),
    ("screens", "Screens", "flow:displays", Action.FLOW_DISPLAY_MANAGE),
    ("waitlist", "Waitlist", "scheduling:waitlist", Action.APPOINTMENT_VIEW),
    ("filing", "Filing", "documents:inbox", Action.DOCUMENT_FILE),
    ("referrals", "Referrals", "referrals:list", Action.REFERRAL_VIEW),
    # Administrators keep the directory but see no referrals: their way to it. Those who see
    # referrals reach it from the referrals page.
    ("practices", "Referral practices", "referrals:practices", Action.REFERRAL_DIRECTORY),
    ("records", "Records", "records:list", Action.RECORDS_VIEW),
    # Administrators keep the fee schedule but see no requests: their way to it.
    ("records_settings", "Records fees", "records:settings", Action.RECORDS_SETTINGS),
    ("payers", "Payers", "patients:payers", Action.PAYER_MANAGE),
    ("setup", "Set-up", "scheduling:setup", Action.SCHEDULE_SETUP),
    ("calendar_feed", "Calendar feed", "scheduling:feed_list", Action.CALENDAR_FEED_VIEW),
    ("playbooks", "Playbooks", "playbooks:list", Action.PLAYBOOK_VIEW),
    ("letters", "Letters", "letters:templates", Action.LETTER_TEMPLATE_EDIT),
    ("complaints", "Complaints", "complaints:list", Action.COMPLAINT_VIEW),
    ("supplies", "Supplies", "supplies:list", Action.SUPPLY_VIEW),
    ("staff", "Staff", "accounts:staff_list", Action.STAFF_VIEW),
    ("locks", "Sign-in locks", "accounts:locks", Action.ACCOUNT_UNLOCK),
    ("outbox", "Unsent messages", "outbox:list", Action.OUTBOX_VIEW),
    ("drawer", "Cash drawer", "billing:drawer", Action.DRAWER_USE),
    ("drawers", "Drawers and deposits", "billing:drawers", Action.DRAWER_OVERSEE),
    ("demo_outbox", "Demo outbox", "demo:outbox", Action.DEMO_OUTBOX_VIEW),
    # Calls, callbacks and medical questions (inquiries/).
    ("calls", "Calls", "inquiries:callbacks", Action.CALLBACK_WORK),
    ("questions", "Questions", "inquiries:questions", Action.QUESTION_POOL_VIEW),
    ("inquiry_settings", "Call rules", "inquiries:settings", Action.INQUIRY_SETTINGS),
    ("account", "My account", "accounts:account", Action.ACCOUNT_SELF),
)


@functools.lru_cache(maxsize=64)
def _links(role: str, demo: bool, urlconf: str, prefix: str) -> tuple[tuple[str, str, str], ...]:
    """The role's links, reversed once per process (every page shows them), for each URL
    configuration and script prefix they could be reversed under."""
    return tuple(
        (key, label, reverse(url_name, urlconf=urlconf))
        for key, label, url_name, action in _ITEMS
        if role_may(role, action)
        and (key != "demo_outbox" or demo)
        and (key != "practices" or not role_may(role, Action.REFERRAL_VIEW))
        and (key != "records_settings" or not role_may(role, Action.RECORDS_VIEW))
    )


def navigation_for(role: str, path: str) -> list[NavItem]:
    links = _links(
        role, settings.FRONTDESK_DEMO, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()
    )
    # The longest matching link is the current one: /schedule/setup/ is Set-up, not Schedule.
    matching = [url for _, _, url in links if (path == url if url == "/" else path.startswith(url))]
    current = max(matching, key=len, default=None)
    return [NavItem(key, label, url, url == current, key in _SETTINGS) for key, label, url in links]


def landing_url(role: str) -> str:
    """Where a member of staff lands after signing in: the front desk on its desk queue (the
    officer's home page; patient search stays one key away, "/"), everyone else on Start."""
    if role == Role.FRONT_DESK and role_may(role, Action.DESK_QUEUE_VIEW):
        return reverse("desk:queue")
    return reverse("home")
