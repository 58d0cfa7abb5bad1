"""frontdesk sliding-fee: show or set a clinic's sliding-fee scale of financial assistance."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.clinic.models import Clinic
from frontdesk.eligibility.assistance import band_list
from frontdesk.eligibility.estimates import (
    EstimateRefusedError,
    sliding_fee_scale,
    sliding_fee_scale_set,
)
from frontdesk.lib.money import money_format, money_parse


class Command(BaseCommand):
    help = (
        "Show a clinic's sliding-fee scale, or set it from the year's HHS poverty guideline: "
        "--year 2026 --label '2026 HHS poverty guidelines, 48 states and DC' --first-person "
        "15650 --each-further 5500 [--bands JSON]. Bands are a JSON list, lowest first, of "
        '{"up_to": percent, "nominal": "20.00"} or {"up_to": percent, "pays": percent}; '
        'the last has "up_to": null.'
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--clinic", required=True, help="the clinic's name")
        parser.add_argument("--year", type=int)
        parser.add_argument("--label")
        parser.add_argument("--first-person", help="the guideline for one person, a year")
        parser.add_argument("--each-further", help="what each further person adds")
        parser.add_argument("--bands", help="the bands as JSON (default: the built-in bands)")

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = Clinic.objects.filter(name=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"No clinic is called {options['clinic']!r}.")
        setting = [options[k] for k in ("year", "label", "first_person", "each_further")]
        if any(v is not None for v in setting) or options["bands"]:
            if any(v is None for v in setting):
                raise CommandError(
                    "To set the scale give --year, --label, --first-person and --each-further."
                )
            try:
                bands = json.loads(options["bands"]) if options["bands"] else None
                sliding_fee_scale_set(
                    context=SYSTEM_CONTEXT,
                    clinic_id=clinic.pk,
                    year=options["year"],
                    label=options["label"],
                    first_person=money_parse(options["first_person"]),
                    each_further_person=money_parse(options["each_further"], allow_zero=True),
                    bands=bands,
                )
            except json.JSONDecodeError:
                raise CommandError("--bands is not JSON.") from None
            except (ValueError, EstimateRefusedError) as exc:
                raise CommandError(str(exc)) from None
        scale = sliding_fee_scale(clinic.pk)
        self.stdout.write(
            f"{clinic.name}: {scale.label}: {money_format(scale.first_person)} for one person, "
            f"{money_format(scale.each_further_person)} for each further person."
        )
        for words in band_list(scale):
            self.stdout.write(f"  {words}")
