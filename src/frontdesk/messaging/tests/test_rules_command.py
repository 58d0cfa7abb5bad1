from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from conftest import Personas
from frontdesk.messaging.models import ReminderRule
from frontdesk.messaging.reminders import ReminderRulesRefusedError, reminder_rules_set


def rules_command(*args: str) -> str:
    out = StringIO()
    call_command("reminder-rules", *args, stdout=out)
    return out.getvalue().strip()


def test_the_command_shows_the_default_reminders_of_a_new_clinic(personas: Personas) -> None:
    assert rules_command("--clinic", "Riverside Family Clinic") == (
        "Riverside Family Clinic sends reminders 72 hours, 24 hours before each appointment."
    )


def test_setting_reminders_switches_the_others_off_and_keeps_them(personas: Personas) -> None:
    rules_command("--clinic", "Riverside Family Clinic")

    said = rules_command("--clinic", "Riverside Family Clinic", "--set", "48, 2")

    assert said == (
        "Riverside Family Clinic sends reminders 48 hours, 2 hours before each appointment."
    )
    assert set(
        ReminderRule.objects.filter(clinic=personas.clinic).values_list("hours_before", "is_active")
    ) == {(72, False), (24, False), (48, True), (2, True)}


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("", "at least one"),
        ("72,soon", "'soon' is not a number of hours"),
        ("0", "from 1 to 720"),
        ("24,24", "given twice"),
        ("٧٢", "is not a number of hours"),
    ],
)
def test_unusable_hours_are_refused_in_plain_words(
    personas: Personas, hours: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        rules_command("--clinic", "Riverside Family Clinic", "--set", hours)
    assert (
        not ReminderRule.objects.filter(clinic=personas.clinic, is_active=True)
        .exclude(hours_before__in=(72, 24))
        .exists()
    )


def test_an_unknown_clinic_is_named_in_the_refusal(personas: Personas) -> None:
    with pytest.raises(CommandError, match="No clinic is called 'Nowhere'"):
        rules_command("--clinic", "Nowhere")


def test_a_reminder_further_ahead_than_patient_links_stay_valid_is_refused(
    personas: Personas, settings: Any
) -> None:
    settings.PATIENT_LINK_MAX_AGE = dt.timedelta(days=14)

    with pytest.raises(CommandError, match=r"400 hours is further ahead than.*336 hours"):
        rules_command("--clinic", "Riverside Family Clinic", "--set", "400,24")

    assert not ReminderRule.objects.filter(clinic=personas.clinic, hours_before=400).exists()
    assert "336 hours" in rules_command("--clinic", "Riverside Family Clinic", "--set", "336")


def test_the_rules_service_refuses_hours_beyond_the_link_lifetime_too(
    personas: Personas, settings: Any
) -> None:
    settings.PATIENT_LINK_MAX_AGE = dt.timedelta(hours=48)

    with pytest.raises(ReminderRulesRefusedError, match="72 hours is further ahead"):
        reminder_rules_set(clinic=personas.clinic, hours=[72, 24])

    assert not ReminderRule.objects.filter(clinic=personas.clinic).exists()
