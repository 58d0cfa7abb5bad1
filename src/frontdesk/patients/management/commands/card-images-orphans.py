"""`frontdesk card-images-orphans [--delete]`: card files no insurance record refers to.

Lists by default; `--delete` removes them (audited). The logic is in patients/card_storage.py.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.patients.card_storage import ORPHAN_MIN_AGE, card_orphans, card_orphans_delete


class Command(BaseCommand):
    help = (
        "List the insurance card files under the media directory that no coverage refers to "
        "(left by replaced cards, or by saves that failed), leaving alone files younger than "
        f"{ORPHAN_MIN_AGE.total_seconds() / 3600:g} hour, which a save may still be writing. "
        "Nothing is removed without --delete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete", action="store_true", help="remove the files listed (audited)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        orphans = card_orphans(now=timezone.now())
        for orphan in orphans:
            self.stdout.write(
                f"{orphan.name}\t{orphan.size} bytes\t{orphan.modified:%Y-%m-%d %H:%M} UTC"
            )
        total = sum(orphan.size for orphan in orphans)
        if not orphans:
            self.stdout.write("No orphaned card files.")
        elif options["delete"]:
            removed = card_orphans_delete(context=SYSTEM_CONTEXT, orphans=orphans)
            self.stdout.write(f"Removed {len(removed)} orphaned card files ({total} bytes).")
        else:
            self.stdout.write(
                f"{len(orphans)} orphaned card files ({total} bytes); "
                "run with --delete to remove them."
            )
