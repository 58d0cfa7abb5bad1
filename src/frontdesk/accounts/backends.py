"""Django's model backend, loading the signed-in user's clinic with the user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from frontdesk.accounts.models import User


class StaffBackend(ModelBackend):
    """Every staff page needs the user's clinic (`staff_clinic`); fetching it in the same query
    as the user saves a round trip on each request. Everything else is ModelBackend's."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("clinic").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
