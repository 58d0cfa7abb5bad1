"""Navigation per role, derived from the policy so a link is shown only where it works."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from frontdesk.accounts.policy import Action, role_may


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    current: bool


_ITEMS: tuple[tuple[str, str, str, Action], ...] = (
    ("home", "Start", "home", Action.HOME),
    ("search", "Patients", "patients:search", Action.PATIENT_SEARCH),
    ("register", "Register", "patients:register", Action.PATIENT_REGISTER),
    ("schedule", "Schedule", "scheduling:day", Action.APPOINTMENT_VIEW),
    ("payers", "Payers", "patients:payers", Action.PAYER_MANAGE),
    ("account", "My account", "accounts:account", Action.ACCOUNT_SELF),
)


def navigation_for(role: str, path: str) -> list[NavItem]:
    items = []
    for key, label, url_name, action in _ITEMS:
        if role_may(role, action):
            url = reverse(url_name)
            current = path == url if url == "/" else path.startswith(url)
            items.append(NavItem(key, label, url, current))
    return items
