"""`{% playbook "late_patient" %}`: the clinic's procedure for a scenario, folded in a panel.

`{% playbook "busy_waiting_room" lazy=True %}` costs the page no query: the panel shows the
scenario's name and fetches the clinic's text when it is opened (for pages with a query budget,
such as the Today page).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from frontdesk.accounts.policy import Action, role_may
from frontdesk.playbooks.models import PlaybookKey
from frontdesk.playbooks.selectors import playbook_for_request

register = template.Library()


@register.simple_tag(takes_context=True)
def playbook(
    context: template.Context, key: str, *, lazy: bool = False, open: bool = False
) -> SafeString | str:
    """Empty for a user who may not see playbooks (or a page without a signed-in user).
    `open=True` shows the steps unfolded (the emergency's, while it is going on)."""
    if key not in PlaybookKey.values:
        raise template.TemplateSyntaxError(f"There is no playbook named {key!r}.")
    request = context.get("request")
    user: Any = getattr(request, "user", None)
    role = str(getattr(user, "role", ""))
    clinic_id = getattr(user, "clinic_id", None)
    if request is None or clinic_id is None or not role_may(role, Action.PLAYBOOK_VIEW):
        return ""
    if lazy:
        page = {"lazy": True, "key": key, "scenario": PlaybookKey(key).label}
    else:
        page = {
            "playbook": playbook_for_request(request, clinic_id, key),
            "can_edit": role_may(role, Action.PLAYBOOK_EDIT),
            "open": open,
        }
    return render_to_string("playbooks/_panel.html", page)
