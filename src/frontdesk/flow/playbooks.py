"""Playbooks: short standard procedures shown where the situation happens (late patient on the
check-in page, busy waiting room on Today, ...). Each clinic's administrator may reword them;
the defaults below are written for a small outpatient clinic."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.flow.models import Playbook, PlaybookScenario

DEFAULTS: dict[str, str] = {
    PlaybookScenario.LATE_PATIENT: (
        "Greet the patient and thank them for coming; do not blame.\n"
        "Check in as usual: the page shows who else would start late if they are seen now.\n"
        "If nobody would be delayed much, choose 'see with delay' and tell them the wait shown.\n"
        "Otherwise offer the first free time today or the next good time ('reschedule').\n"
        "If they are unwell or the visit cannot wait, ask the nurse before sending them away."
    ),
    PlaybookScenario.UPSET_PATIENT: (
        "Stay calm, use their name, and listen without interrupting.\n"
        "Say what you can do now (the wait, a seat, a call to the nurse), not what you cannot.\n"
        "Move the conversation away from the queue if other patients can hear.\n"
        "If they threaten anyone, step back and call the supervisor; in danger, call 911.\n"
        "Afterwards, tell the supervisor what happened."
    ),
    PlaybookScenario.MEDICAL_QUESTION: (
        "Do not give medical advice, even when you know the answer.\n"
        "Ask: is this urgent? Chest pain, trouble breathing, heavy bleeding, confusion, "
        "fainting: tell the nurse at once and mark the check-in as emergency.\n"
        "Otherwise note the question and tell the nurse or provider before the visit.\n"
        "Tell the patient who will answer and when."
    ),
    PlaybookScenario.BUSY_WAITING_ROOM: (
        "Look at Today: counts, longest wait and who is running late.\n"
        "Announce the delay on the screens in one click, and say it out loud once.\n"
        "Tell each new arrival the wait shown at check-in; it is recorded.\n"
        "Offer patients waiting long a later time today or another day.\n"
        "Ask the supervisor for help when the longest wait passes 45 minutes."
    ),
    PlaybookScenario.CONFIDENTIALITY: (
        "Ask the patient to say their name and birth date; do not read them aloud to the room.\n"
        "Call patients by ticket number in the waiting room.\n"
        "Keep screens turned away from the counter; sign out or lock when you leave.\n"
        "Talk about insurance, balances and reasons for the visit quietly, or at the side desk.\n"
        "Never confirm to a caller that someone is a patient without checking who is asking."
    ),
    PlaybookScenario.SYSTEM_OUTAGE: (
        "Tell the supervisor; note the time the system went down.\n"
        "Use the printed day list (print Today each morning) and paper check-in slips: name, "
        "birth date, time of arrival, ticket number written by hand.\n"
        "Call patients by their paper ticket number in arrival order; emergencies first.\n"
        "When the system is back, enter each check-in with its real times, then shred the slips."
    ),
}


@dataclass(frozen=True)
class PlaybookText:
    scenario: str
    title: str
    steps: list[str]
    customised: bool


def playbook_for(clinic_id: int, scenario: PlaybookScenario) -> PlaybookText:
    own = Playbook.objects.filter(clinic_id=clinic_id, scenario=scenario).first()
    text = own.steps if own is not None else DEFAULTS[scenario]
    return PlaybookText(
        scenario=scenario,
        title=scenario.label,
        steps=[line.strip() for line in text.splitlines() if line.strip()],
        customised=own is not None,
    )


def playbooks_all(clinic_id: int) -> list[PlaybookText]:
    return [playbook_for(clinic_id, s) for s in PlaybookScenario]


@transaction.atomic
def playbook_save(
    *, context: AuditContext, user: User, clinic: Clinic, scenario: PlaybookScenario, steps: str
) -> None:
    """Reword a playbook; an empty text goes back to the default."""
    text = "\n".join(line.strip() for line in steps.splitlines() if line.strip())[:4000]
    if not text or text == DEFAULTS[scenario]:
        Playbook.objects.filter(clinic=clinic, scenario=scenario).delete()
    else:
        Playbook.objects.update_or_create(
            clinic=clinic,
            scenario=scenario,
            defaults={"steps": text, "updated_at": timezone.now(), "updated_by": user},
        )
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type="playbook",
        object_id=scenario,
        detail={"reset": not text or text == DEFAULTS[scenario]},
    )
