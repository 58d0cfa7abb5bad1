from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from frontdesk.audit.checkpoints import checkpoint_write
from frontdesk.audit.keys import audit_key_file_rotate
from frontdesk.audit.services import audit_key_switch
from frontdesk.audit.verify import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Audit trail tools. `audit verify` checks the chain end to end: signatures, patient "
        "links and checkpoints (`--checkpoint` also writes one when the chain is intact). "
        "`audit rotate-key` replaces the key in AUDIT_HMAC_KEY_FILE and records it in the chain."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("operation", choices=["verify", "rotate-key"])
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="verify: then write a checkpoint of the verified tip to AUDIT_CHECKPOINT_TARGET.",
        )
        parser.add_argument(
            "--checkpoints",
            nargs="+",
            type=Path,
            default=[],
            metavar="FILE",
            help="verify: also compare with the checkpoints in these files (a syslog archive).",
        )
        parser.add_argument(
            "--backup",
            action="store_true",
            help="verify: the database is a restored backup, which may end before later "
            "checkpoints (those it reaches must still match).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["operation"] == "rotate-key":
            self._rotate_key()
            return
        if options["checkpoint"]:
            if not settings.AUDIT_CHECKPOINT_TARGETS:
                raise CommandError("AUDIT_CHECKPOINT_TARGET is none: there is nowhere to write.")
            # The chain is handed to the current key first, so the tip checkpointed is signed.
            audit_key_switch()
        report = audit_chain_verify(
            checkpoint_files=options["checkpoints"], backup=options["backup"]
        )
        for note in report.notes:
            self.stderr.write(f"Note: {note}")
        if not report.ok:
            if report.checkpoints_broken:
                raise CommandError(f"Audit checkpoints broken: {report.problem}")
            raise CommandError(
                f"Audit trail broken after {report.checked} good events: {report.problem}"
            )
        self.stdout.write(f"Audit trail intact: {report.checked} events verified.")
        if options["checkpoint"]:
            try:
                checkpoint_write(
                    seq=report.checked,
                    head_hash=report.last_hash,
                    targets=settings.AUDIT_CHECKPOINT_TARGETS,
                )
            except OSError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"Checkpoint written at event #{report.checked}.")

    def _rotate_key(self) -> None:
        try:
            old, new = audit_key_file_rotate()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        event = audit_key_switch(reload=True)
        recorded = f" (event #{event.seq})" if event is not None else ""
        self.stdout.write(
            f"Audit key rotated: key id {old.key_id} retired to "
            f"{settings.AUDIT_HMAC_OLD_KEYS_FILE}, key id {new.key_id} signs from now on"
            f"{recorded}. Other processes pick the new key up at their next audit event."
        )
