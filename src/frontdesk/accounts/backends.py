"""Django's model backend, loading the signed-in user's clinic with the user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from frontdesk.accounts.models import User


class StaffBackend(ModelBackend):
    """Every staff page needs the user's clinic (`staff_clinic`); fetching it in the same query
    as the user saves a round trip on each request. A locked account is refused like a
    deactivated one. Everything else is ModelBackend's."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("clinic").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user: Any) -> bool:
        """A deactivated (is_active False) or locked account neither signs in nor keeps a
        session: `get_user` asks this on every request, so its sessions end at once."""
        return super().user_can_authenticate(user) and getattr(user, "locked_at", None) is None
