from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from frontdesk.accounts.middleware import held_at_password_change, held_at_two_step
from frontdesk.accounts.navigation import navigation_for


def held_at_a_gate(user: object) -> bool:
    """Signed in, but not yet through two-step sign-in or a password change they must make
    first: every page the navigation names would only send them back to that one."""
    return held_at_two_step(user) or held_at_password_change(user)


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs: clinic name, the role's navigation (none while the person
    is held at two-step sign-in or a required password change), idle timeout."""
    user = request.user
    role = str(getattr(user, "role", "")) if user.is_authenticated else ""
    nav_items = navigation_for(role, request.path) if role and not held_at_a_gate(user) else []
    return {
        "clinic_name": settings.CLINIC_NAME,
        "nav_items": [item for item in nav_items if not item.settings],
        "nav_settings": [item for item in nav_items if item.settings],
        "idle_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
        "can_search_patients": any(item.key == "search" for item in nav_items),
    }
