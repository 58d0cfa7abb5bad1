from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from frontdesk.audit.verify import audit_chain_verify


class Command(BaseCommand):
    help = "Audit trail tools. `audit verify` checks the hash chain end to end."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("operation", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.ok:
            raise CommandError(
                f"Audit trail broken after {report.checked} good events: {report.problem}"
            )
        self.stdout.write(f"Audit trail intact: {report.checked} events verified.")
