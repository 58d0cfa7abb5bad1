from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from frontdesk.accounts.navigation import navigation_for


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs: clinic name, the role's navigation, idle timeout."""
    user = request.user
    role = str(getattr(user, "role", "")) if user.is_authenticated else ""
    nav_items = navigation_for(role, request.path) if role else []
    return {
        "clinic_name": settings.CLINIC_NAME,
        "nav_items": [item for item in nav_items if not item.settings],
        "nav_settings": [item for item in nav_items if item.settings],
        "idle_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
        "can_search_patients": any(item.key == "search" for item in nav_items),
    }
