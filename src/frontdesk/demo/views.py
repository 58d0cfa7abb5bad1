"""`/demo/outbox/`: in demo mode, the emails and texts patients would have received."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.demo.models import DemoMessage
from frontdesk.demo.outbox import demo_messages
from frontdesk.lib.masking import mask_email, mask_phone
from frontdesk.messaging.channels import EMAIL
from frontdesk.patients.models import Confidentiality
from frontdesk.patients.selectors import patients_shown


@dataclass(frozen=True)
class DemoOutboxRow:
    message: DemoMessage
    channel: str
    recipient: str  # masked, as on lists
    patient: str
    restricted: bool  # the words are not shown: open the chart (break the glass) instead


@policy(Action.DEMO_OUTBOX_VIEW)
@require_GET
def demo_outbox_view(request: HttpRequest) -> HttpResponse:
    if not settings.FRONTDESK_DEMO:
        raise Http404("Not in demo mode")
    clinic = staff_clinic(staff_user(request))
    found = list(demo_messages(clinic.pk))
    if found:
        patients_shown(
            context=audit_context(request),
            patient_ids=sorted({m.patient_id for m in found}),
            page=AuditObject.DEMO_OUTBOX,
        )
    rows = [
        DemoOutboxRow(
            message=m,
            channel="Email" if m.channel == EMAIL else "Text message",
            recipient=mask_email(m.recipient) if m.channel == EMAIL else mask_phone(m.recipient),
            patient=f"{m.patient.family_name}, {m.patient.given_name}",
            restricted=m.patient.confidentiality == Confidentiality.RESTRICTED,
        )
        for m in found
    ]
    return render(request, "demo/outbox.html", {"rows": rows})
