"""`frontdesk payer-simulator`: a stand-in payer (a SIMULATOR, never a payer) answering CAQH
CORE real-time 270s with 271s from its table, on its own HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontdesk.eligibility.simulator import (
    Control,
    Simulator,
    Table,
    default_table,
    simulator_server,
)

DEFAULT_TABLE = "payer-simulator.json"


class Command(BaseCommand):
    help = (
        "Run the PAYER SIMULATOR: answers eligibility requests (CORE envelope at /core) from "
        "a table of members; POST /control switches latency, down, AAA refusals. For the demo "
        "and tests only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8790)
        parser.add_argument(
            "--table",
            help=f"JSON table of members (default: var/{DEFAULT_TABLE} if present, else a "
            "built-in sample).",
        )
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--down", action="store_true")
        parser.add_argument("--reject", default="", help="answer every request with this AAA03")

    def handle(self, *args: Any, **options: Any) -> None:
        path = (
            Path(options["table"]) if options["table"] else (Path(settings.VAR_DIR) / DEFAULT_TABLE)
        )
        if options["table"] and not path.is_file():
            raise CommandError(f"No simulator table at {path}.")
        try:
            table = Table.load(path) if path.is_file() else default_table()
        except (ValueError, TypeError) as exc:
            raise CommandError(f"The simulator table {path} could not be read: {exc}") from None
        if options["latency_ms"] < 0:
            raise CommandError("--latency-ms cannot be negative.")
        simulator = Simulator(
            table,
            Control(
                latency_ms=options["latency_ms"], down=options["down"], reject=options["reject"]
            ),
        )
        server = simulator_server(simulator, options["host"], options["port"])
        host, port = server.server_address[:2]
        self.stdout.write(
            f"PAYER SIMULATOR (not a payer) on http://{host!s}:{port}/core with "
            f"{len(table.members)} members; Ctrl-C stops it.",
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
