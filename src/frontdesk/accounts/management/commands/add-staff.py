from __future__ import annotations

import getpass
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from frontdesk.accounts.roles import Role
from frontdesk.accounts.services import staff_create
from frontdesk.clinic.models import Clinic


class Command(BaseCommand):
    help = "Create a member of staff. The password is asked for, or read from standard input."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--clinic", required=True, help="the clinic's name")
        parser.add_argument("--create-clinic", action="store_true", help="create it if missing")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["clinic"]
        clinic = Clinic.objects.filter(name=name).first()
        if clinic is None:
            if not options["create_clinic"]:
                raise CommandError(f"No clinic is called {name!r}. Add --create-clinic to make it.")
            clinic = Clinic.objects.create(name=name)
        if sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password again: ") != password:
                raise CommandError("The two passwords differ.")
        else:
            password = sys.stdin.readline().rstrip("\n")
        try:
            validate_password(password)
            user = staff_create(
                clinic=clinic,
                username=options["username"],
                password=password,
                role=Role(options["role"]),
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Created {user.username} ({user.role_label}) at {clinic.name}.")
