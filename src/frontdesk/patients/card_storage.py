"""Card files on disk: a replaced one goes once its replacement is committed; orphans are found.

Files are not rows, so the transaction does not cover them: a file removed before the commit
would be lost if the commit failed, and a save that rolls back leaves the file it wrote. So a
replaced file is removed only on commit, and `frontdesk card-images-orphans` finds (and with
`--delete` removes) the files no coverage refers to, whatever left them behind.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from frontdesk.audit.models import AuditAction, AuditObject
from frontdesk.audit.services import AuditContext, audit_record
from frontdesk.patients.models import CARD_DIRECTORY, Coverage

logger = logging.getLogger(__name__)

# A save in flight has written its file but not yet committed the row that refers to it: files
# younger than this are never called orphans.
ORPHAN_MIN_AGE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class CardOrphan:
    name: str  # random (models.card_upload_path), so naming it reveals nothing
    size: int
    modified: dt.datetime


def card_names_referenced(names: Collection[str] | None = None) -> set[str]:
    """The stored card names some coverage refers to (of `names`, when given)."""
    rows = Coverage.objects.all()
    if names is not None:
        rows = rows.filter(Q(card_front__in=names) | Q(card_back__in=names))
    referenced: set[str] = set()
    for front, back in rows.values_list("card_front", "card_back").iterator():
        referenced.update(name for name in (front, back) if name)
    return referenced


def card_orphans(*, now: dt.datetime, min_age: dt.timedelta = ORPHAN_MIN_AGE) -> list[CardOrphan]:
    """Files in the card directory that no coverage refers to, older than `min_age`."""
    try:
        _, files = default_storage.listdir(CARD_DIRECTORY)
    except FileNotFoundError:  # no card uploaded yet
        return []
    referenced = card_names_referenced()
    orphans = []
    for file in sorted(files):
        name = f"{CARD_DIRECTORY}/{file}"
        if name in referenced:
            continue
        modified = default_storage.get_modified_time(name)
        if now - modified >= min_age:
            orphans.append(CardOrphan(name, default_storage.size(name), modified))
    return orphans


def _card_files_remove(names: Collection[str]) -> list[str]:
    # Checked against the rows again: a file is never removed while a coverage refers to it.
    removed = []
    for name in sorted(set(names) - card_names_referenced(names)):
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("Card file %s not removed; card-images-orphans will list it.", name)
        else:
            removed.append(name)
    return removed


def card_files_remove_on_commit(names: Collection[str]) -> None:
    """Remove these replaced card files once the current transaction commits (never if it
    rolls back, when the rows still refer to them)."""
    if names:
        transaction.on_commit(lambda: _card_files_remove(names))


@transaction.atomic
def card_orphans_delete(*, context: AuditContext, orphans: Sequence[CardOrphan]) -> list[str]:
    """Remove orphaned card files (from `card_orphans`); audited with their random names."""
    removed = _card_files_remove([orphan.name for orphan in orphans])
    audit_record(
        context=context,
        action=AuditAction.SYSTEM,
        object_type=AuditObject.CARD_FILES_ORPHANED,
        detail={"removed": removed},
    )
    return removed
