"""`frontdesk documents-orphans [--delete]`: document files no document refers to.

Lists by default; `--delete` removes them (audited). The logic is in documents/storage.py and
documents/services.py.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.documents.services import document_orphans_delete
from frontdesk.documents.storage import ORPHAN_MIN_AGE, document_orphans


class Command(BaseCommand):
    help = (
        "List the document files and thumbnails under the media directory that no document "
        "refers to (left by an upload stopped before its rows were saved), leaving alone files "
        f"younger than {ORPHAN_MIN_AGE.total_seconds() / 3600:g} hour. Nothing is removed "
        "without --delete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete", action="store_true", help="remove the files listed (audited)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        orphans = document_orphans(now=timezone.now())
        for orphan in orphans:
            self.stdout.write(
                f"{orphan.name}\t{orphan.size} bytes\t{orphan.modified:%Y-%m-%d %H:%M} UTC"
            )
        total = sum(orphan.size for orphan in orphans)
        if not orphans:
            self.stdout.write("No orphaned document files.")
        elif options["delete"]:
            removed = document_orphans_delete(context=SYSTEM_CONTEXT, orphans=orphans)
            self.stdout.write(f"Removed {len(removed)} orphaned document files ({total} bytes).")
        else:
            self.stdout.write(
                f"{len(orphans)} orphaned document files ({total} bytes); "
                "run with --delete to remove them."
            )
