"""The shape shared by the commands that list (and with `--delete` remove) stored files no row
refers to: what they print and when they remove. Each app says which files are its orphans and
how it removes them (audited)."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar

from django.core.management.base import BaseCommand, CommandParser


class OrphanFile(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def modified(self) -> dt.datetime: ...


Orphan = TypeVar("Orphan", bound=OrphanFile)


class OrphanFilesCommand(BaseCommand, ABC, Generic[Orphan]):
    what = "files"  # as the lines say it: "document files", "card files"

    @abstractmethod
    def orphans_find(self) -> Sequence[Orphan]:
        """The app's stored files that no row refers to."""

    @abstractmethod
    def orphans_delete(self, orphans: Sequence[Orphan]) -> list[str]:
        """Remove them (audited); the names removed."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete", action="store_true", help="remove the files listed (audited)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        orphans = self.orphans_find()
        for orphan in orphans:
            self.stdout.write(
                f"{orphan.name}\t{orphan.size} bytes\t{orphan.modified:%Y-%m-%d %H:%M} UTC"
            )
        total = sum(orphan.size for orphan in orphans)
        if not orphans:
            self.stdout.write(f"No orphaned {self.what}.")
        elif options["delete"]:
            removed = self.orphans_delete(orphans)
            self.stdout.write(f"Removed {len(removed)} orphaned {self.what} ({total} bytes).")
        else:
            self.stdout.write(
                f"{len(orphans)} orphaned {self.what} ({total} bytes); "
                "run with --delete to remove them."
            )
