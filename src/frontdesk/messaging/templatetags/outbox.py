"""`{% outbox_notice %}`: tells administrators and supervisors, wherever it is placed, how
many messages to patients the outbox could not send (one count query; nothing for others)."""

from __future__ import annotations

from typing import Any

from django import template

from frontdesk.accounts.policy import Action, role_may
from frontdesk.messaging.outbox import outbox_parked_count

register = template.Library()


@register.inclusion_tag("messaging/_outbox_notice.html", takes_context=True)
def outbox_notice(context: template.Context) -> dict[str, Any]:
    user = context.get("user")
    role = str(getattr(user, "role", ""))
    clinic_id = getattr(user, "clinic_id", None)
    if not role or clinic_id is None or not role_may(role, Action.OUTBOX_VIEW):
        return {"count": 0}
    return {"count": outbox_parked_count(clinic_id)}
