"""`frontdesk card-images-orphans [--delete]`: card files no insurance record refers to.

Lists by default; `--delete` removes them (audited). The logic is in patients/card_storage.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.lib.orphan_files import OrphanFilesCommand
from frontdesk.patients.card_storage import (
    ORPHAN_MIN_AGE,
    CardOrphan,
    card_orphans,
    card_orphans_delete,
)


class Command(OrphanFilesCommand[CardOrphan]):
    help = (
        "List the insurance card files under the media directory that no coverage refers to "
        "(left by replaced cards, or by saves that failed), leaving alone files younger than "
        f"{ORPHAN_MIN_AGE.total_seconds() / 3600:g} hour, which a save may still be writing. "
        "Nothing is removed without --delete."
    )
    what = "card files"

    def orphans_find(self) -> Sequence[CardOrphan]:
        return card_orphans(now=timezone.now())

    def orphans_delete(self, orphans: Sequence[CardOrphan]) -> list[str]:
        return card_orphans_delete(context=SYSTEM_CONTEXT, orphans=orphans)
