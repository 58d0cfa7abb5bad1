"""frontdesk close-day [--date YYYY-MM-DD]: flag who is still in the queue, mark no-shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import Clinic
from frontdesk.flow.closing import ClosingReport, flow_close_day
from frontdesk.lib.clinic_time import clinic_zone


class Command(BaseCommand):
    help = (
        "Close a clinic day: patients still in the queue are flagged for a supervisor, and "
        "booked patients who never arrived become no-shows (NO_SHOW_AFTER_MINUTES after the "
        "end of their visit). Runs by itself every quarter hour for days that have ended."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the clinic-local day, YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must look like 2026-11-23.") from None
            self._report(day, flow_close_day(context=SYSTEM_CONTEXT, day=day, now=now))
            return
        # Today is each clinic's own today, in its own zone.
        for clinic in Clinic.objects.order_by("pk"):
            day = now.astimezone(clinic_zone(clinic)).date()
            report = flow_close_day(context=SYSTEM_CONTEXT, day=day, now=now, clinic_id=clinic.pk)
            self._report(day, report, clinic.name)

    def _report(self, day: dt.date, report: ClosingReport, clinic: str = "") -> None:
        flagged = ", ".join(report.flagged) or "nobody"
        where = f"{clinic}, " if clinic else ""
        self.stdout.write(
            f"{where}{day}: still in the queue: {flagged}; no-shows: {report.no_shows}"
        )
