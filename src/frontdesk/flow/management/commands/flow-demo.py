"""frontdesk flow-demo: today's queue for the demo clinic (Today page, board, screen)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import timezone

from frontdesk.clinic.models import Clinic
from frontdesk.flow.demo import flow_demo_drawers, flow_demo_today
from frontdesk.flow.display import display_token
from frontdesk.flow.models import WaitingRoomDisplay


class Command(BaseCommand):
    help = (
        "Put today's started appointments of the demo clinic in the queue in every state, with "
        "a walk-in emergency and a waiting-room screen, so the flow pages are alive. A day "
        "that already has a queue is left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", help="the clinic's name (default: the only clinic)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--base-url",
            default="",
            help="where the server answers, e.g. http://127.0.0.1:8000, so the screen's link is "
            "printed whole, ready to open on the wall's browser",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        clinics = Clinic.objects.all()
        if options["clinic"]:
            clinics = clinics.filter(name=options["clinic"])
        found = list(clinics[:2])
        if len(found) != 1:
            raise CommandError("Name the clinic with --clinic (there is none, or more than one).")
        clinic = found[0]
        outcome = flow_demo_today(clinic=clinic, now=timezone.now(), seed=options["seed"])
        if not outcome.entries:
            self.stdout.write(f"{clinic.name}: today's queue exists already (or no visits yet).")
        else:
            counts = ", ".join(f"{n} {s}" for s, n in sorted(outcome.by_status.items()))
            self.stdout.write(f"{clinic.name}: {outcome.entries} patients in the queue ({counts}).")
        drawers = flow_demo_drawers(clinic=clinic, now=timezone.now())
        if drawers:
            self.stdout.write(f"{clinic.name}: {drawers} cash drawers opened for today.")
        screen = WaitingRoomDisplay.objects.filter(clinic=clinic).order_by("pk").first()
        if screen is not None:
            base = options["base_url"].rstrip("/")
            link = f"{base}{reverse('flow:display')}?token={display_token(screen)}"
            self.stdout.write(f"Waiting-room screen: {link}")
