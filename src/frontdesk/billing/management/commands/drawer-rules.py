"""frontdesk drawer-rules: show or set how far a clinic's drawer count may be off."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.billing.drawer import drawer_tolerance_set
from frontdesk.billing.drawer_selectors import drawer_tolerance
from frontdesk.billing.services import BillingRefusedError
from frontdesk.clinic.models import Clinic
from frontdesk.lib.money import money_format, money_parse


class Command(BaseCommand):
    help = (
        "Show a clinic's cash-drawer tolerance, or set it: --tolerance 2.00 lets a count be "
        "off by up to $2.00 either way without a reason; beyond it, the officer gives one and "
        "the variance goes to the supervisors' desk queue."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--clinic", required=True, help="the clinic's name")
        parser.add_argument("--tolerance", help="an amount, e.g. 2.00 (0 for none)")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(name=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"No clinic is called {options['clinic']!r}.")
        if options["tolerance"] is not None:
            try:
                tolerance = money_parse(options["tolerance"], allow_zero=True)
                drawer_tolerance_set(
                    context=SYSTEM_CONTEXT, clinic_id=clinic.pk, tolerance=tolerance
                )
            except (ValueError, BillingRefusedError) as exc:
                raise CommandError(str(exc)) from None
        shown = money_format(drawer_tolerance(clinic.pk))
        self.stdout.write(
            f"{clinic.name}: a drawer count may be off by up to {shown} without a reason."
        )
