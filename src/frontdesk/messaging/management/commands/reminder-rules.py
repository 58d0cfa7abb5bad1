from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from frontdesk.clinic.models import Clinic
from frontdesk.messaging.models import ReminderRule
from frontdesk.messaging.reminders import (
    ReminderRulesRefusedError,
    parse_reminder_hours,
    reminder_rules_ensure_defaults,
    reminder_rules_set,
)


class Command(BaseCommand):
    help = (
        "Show a clinic's appointment reminders, or set them: --set 72,24 sends one three days "
        "and one a day before each visit; --set with other hours switches the rest off. Hours "
        "longer than patient links stay valid (PATIENT_LINK_MAX_AGE_HOURS) are refused."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--clinic", required=True, help="the clinic's name")
        parser.add_argument("--set", dest="hours", help="hours before the visit, e.g. 72,24")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(name=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"No clinic is called {options['clinic']!r}.")
        if options["hours"] is None:
            reminder_rules_ensure_defaults()
            rules = list(ReminderRule.objects.filter(clinic=clinic, is_active=True))
        else:
            try:
                hours = parse_reminder_hours(options["hours"])
                rules = reminder_rules_set(clinic=clinic, hours=hours)
            except ReminderRulesRefusedError as exc:
                raise CommandError(str(exc)) from None
        if not rules:
            self.stdout.write(f"{clinic.name} sends no appointment reminders.")
            return
        listed = ", ".join(f"{rule.hours_before} hours" for rule in rules)
        self.stdout.write(f"{clinic.name} sends reminders {listed} before each appointment.")
