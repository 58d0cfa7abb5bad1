"""Changing playbooks: the clinic's defaults, an edit, a reset to the default. Each audited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from frontdesk.accounts.models import User
from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.clinic.models import Clinic
from frontdesk.playbooks.defaults import DEFAULT_PLAYBOOKS
from frontdesk.playbooks.models import STEPS_MAX, TITLE_MAX, Playbook, PlaybookKey
from frontdesk.playbooks.text import step_count


class PlaybookRefusedError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PlaybookChangedError(PlaybookRefusedError):
    """Someone saved the playbook after this editor opened it."""


def playbook_text_check(*, title: str, steps: str) -> tuple[str, str]:
    """The title and steps as they will be stored, or a refusal in plain words."""
    title = " ".join(title.split())
    steps = "\n".join(line.rstrip() for line in steps.replace("\r\n", "\n").split("\n")).strip()
    if not title:
        raise PlaybookRefusedError("Give the playbook a title.", field="title")
    if len(title) > TITLE_MAX:
        raise PlaybookRefusedError(
            f"Keep the title to {TITLE_MAX} characters or fewer.", field="title"
        )
    if "\x00" in title or "\x00" in steps:
        raise PlaybookRefusedError(
            "The text holds a null character, which cannot be saved; remove it.", field="steps"
        )
    if len(steps) > STEPS_MAX:
        raise PlaybookRefusedError(
            f"Keep the steps to {STEPS_MAX} characters or fewer: a playbook is read at the desk.",
            field="steps",
        )
    if step_count(steps) == 0:
        raise PlaybookRefusedError(
            'Write at least one numbered step, such as "1. Greet the patient."', field="steps"
        )
    return title, steps


def _known(key: str) -> str:
    if key not in PlaybookKey.values:
        raise PlaybookRefusedError("There is no playbook of that name.")
    return key


@transaction.atomic
def _create_missing(*, context: AuditContext, clinic: Clinic) -> list[str]:
    # The clinic row is the lock: two first visits cannot both create (and audit) the defaults.
    Clinic.objects.select_for_update().filter(pk=clinic.pk).first()
    stored = set(Playbook.objects.filter(clinic=clinic).values_list("key", flat=True))
    missing = [key for key in PlaybookKey.values if key not in stored]
    if not missing:
        return []
    now = timezone.now()
    Playbook.objects.bulk_create(
        Playbook(
            clinic=clinic,
            key=key,
            title=DEFAULT_PLAYBOOKS[key][0],
            steps=DEFAULT_PLAYBOOKS[key][1].strip(),
            updated_at=now,
        )
        for key in missing
    )
    audit_record(
        context=context,
        action=AuditAction.CREATE,
        object_type=AuditObject.PLAYBOOK,
        object_id=clinic.pk,
        detail={"defaults_created": missing},
    )
    return missing


def playbooks_ensure(*, context: AuditContext, clinic: Clinic) -> list[str]:
    """Store the default playbook of every scenario the clinic has none for; returns their keys.

    Reads first without a transaction, so a clinic that has them all takes no write lock.
    """
    stored = Playbook.objects.filter(clinic=clinic).count()
    if stored == len(PlaybookKey.values):
        return []
    return _create_missing(context=context, clinic=clinic)


def _locked(*, context: AuditContext, clinic: Clinic, key: str) -> Playbook:
    playbooks_ensure(context=context, clinic=clinic)
    return Playbook.objects.select_for_update().get(clinic=clinic, key=key)


@transaction.atomic
def playbook_save(
    *,
    context: AuditContext,
    user: User,
    clinic: Clinic,
    key: str,
    title: str,
    steps: str,
    version: int,
) -> tuple[Playbook, bool]:
    """Store an edited playbook; returns it and whether anything changed.

    `version` is the one the editor started from: a playbook saved since is refused with
    `PlaybookChangedError`, so one editor never silently overwrites another.
    """
    title, steps = playbook_text_check(title=title, steps=steps)
    playbook = _locked(context=context, clinic=clinic, key=_known(key))
    if version != playbook.version:
        raise PlaybookChangedError(
            "Someone else changed this playbook while you were editing it. Their text is shown "
            "below; yours is still in the form. Save again to replace theirs with yours."
        )
    changed = [
        name
        for name, value in (("title", title), ("steps", steps))
        if getattr(playbook, name) != value
    ]
    if not changed:
        return playbook, False
    before = {"title": playbook.title, "steps": playbook.steps}
    playbook.title, playbook.steps = title, steps
    _stamp(playbook, user)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.PLAYBOOK,
        object_id=playbook.pk,
        detail={"key": key, "changed": changed, "before": before},
    )
    return playbook, True


@transaction.atomic
def playbook_reset(*, context: AuditContext, user: User, clinic: Clinic, key: str) -> bool:
    """Put the default text back; the clinic's text is kept in the audit event. Returns whether
    anything changed."""
    playbook = _locked(context=context, clinic=clinic, key=_known(key))
    title, steps = DEFAULT_PLAYBOOKS[key][0], DEFAULT_PLAYBOOKS[key][1].strip()
    if (playbook.title, playbook.steps) == (title, steps):
        return False
    before = {"title": playbook.title, "steps": playbook.steps}
    playbook.title, playbook.steps = title, steps
    _stamp(playbook, user)
    audit_record(
        context=context,
        action=AuditAction.UPDATE,
        object_type=AuditObject.PLAYBOOK,
        object_id=playbook.pk,
        detail={"key": key, "reset_to_default": True, "before": before},
    )
    return True


def _stamp(playbook: Playbook, user: User) -> None:
    playbook.version += 1
    playbook.updated_at = timezone.now()
    playbook.updated_by = user
    playbook.save(update_fields=["title", "steps", "version", "updated_at", "updated_by"])
