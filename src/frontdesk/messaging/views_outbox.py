"""`/messaging/outbox/`: messages to patients that could not be sent, with the reason in words,
for administrators and supervisors; send again or cancel (both audited)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.messaging.models import OutboxMessage, OutboxStatus
from frontdesk.messaging.outbox import (
    OutboxActionRefusedError,
    outbox_cancel,
    outbox_kind_label,
    outbox_needing_attention,
    outbox_retry,
)
from frontdesk.messaging.tasks import outbox_kick
from frontdesk.patients.selectors import patients_shown

# The page lists at most this many; the oldest problems are the same kind as the newest.
LIST_LIMIT = 200


@dataclass(frozen=True)
class OutboxRow:
    message: OutboxMessage
    kind: str
    patient: str  # the name, or a note that the role does not see names
    parked: bool


@policy(Action.OUTBOX_VIEW)
@require_GET
def outbox_list_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    clinic = staff_clinic(user)
    found = list(outbox_needing_attention(clinic.pk)[:LIST_LIMIT])
    # Administrators keep the mail server running; they need the reason, not the patient.
    names = role_may(user.role, Action.PATIENT_VIEW)
    if names and found:
        patients_shown(
            context=audit_context(request),
            patient_ids=sorted({m.patient_id for m in found}),
            page=AuditObject.OUTBOX_LIST,
        )
    rows = [
        OutboxRow(
            message=m,
            kind=outbox_kind_label(m.kind),
            patient=(
                f"{m.patient.family_name}, {m.patient.given_name}"
                if names
                else "(names are not shown to your role)"
            ),
            parked=m.status == OutboxStatus.PARKED,
        )
        for m in found
    ]
    return render(request, "messaging/outbox.html", {"rows": rows, "names": names})


def _act(request: HttpRequest, outbox_id: int, *, retry: bool) -> HttpResponse:
    user = staff_user(request)
    staff_clinic(user)
    service = outbox_retry if retry else outbox_cancel
    try:
        service(context=audit_context(request), user=user, message_pk=outbox_id)
    except OutboxMessage.DoesNotExist:
        raise Http404 from None
    except OutboxActionRefusedError as exc:
        messages.error(request, str(exc))
        return redirect("outbox:list")
    if retry:
        outbox_kick()
        messages.success(request, "The message is being sent again.")
    else:
        messages.success(request, "The message was cancelled and will not be sent.")
    return redirect("outbox:list")


@policy(Action.OUTBOX_MANAGE)
@require_POST
def outbox_retry_view(request: HttpRequest, outbox_id: int) -> HttpResponse:
    return _act(request, outbox_id, retry=True)


@policy(Action.OUTBOX_MANAGE)
@require_POST
def outbox_cancel_view(request: HttpRequest, outbox_id: int) -> HttpResponse:
    return _act(request, outbox_id, retry=False)
