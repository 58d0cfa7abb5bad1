"""`frontdesk documents-orphans [--delete]`: document files no document refers to.

Lists by default; `--delete` removes them (audited). The logic is in documents/storage.py and
documents/services.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.documents.services import document_orphans_delete
from frontdesk.documents.storage import ORPHAN_MIN_AGE, DocumentOrphan, document_orphans
from frontdesk.lib.orphan_files import OrphanFilesCommand


class Command(OrphanFilesCommand[DocumentOrphan]):
    help = (
        "List the document files and thumbnails under the media directory that no document "
        "refers to (left by an upload stopped before its rows were saved), leaving alone files "
        f"younger than {ORPHAN_MIN_AGE.total_seconds() / 3600:g} hour. Nothing is removed "
        "without --delete."
    )
    what = "document files"

    def orphans_find(self) -> Sequence[DocumentOrphan]:
        return document_orphans(now=timezone.now())

    def orphans_delete(self, orphans: Sequence[DocumentOrphan]) -> list[str]:
        return document_orphans_delete(context=SYSTEM_CONTEXT, orphans=orphans)
