"""The financial-assistance form: what the patient decided, and for a sliding fee their
household and yearly income."""

from __future__ import annotations

from typing import Any

from django import forms

from frontdesk.eligibility.assistance import HOUSEHOLD_MAX
from frontdesk.eligibility.models import AssistanceOutcome
from frontdesk.lib.money import MoneyField


class HouseholdField(forms.CharField):
    """How many people live in the household, typed as a whole number."""

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        if text.startswith("-"):
            raise forms.ValidationError("The household cannot be negative.", code="invalid")
        # ASCII digits only: "1e3", "2.5" or digits of other scripts are not a head count.
        if len(text) > 4 or not all("0" <= c <= "9" for c in text):
            raise forms.ValidationError("Type how many people, like 3.", code="invalid")
        size = int(text)
        if not 1 <= size <= HOUSEHOLD_MAX:
            raise forms.ValidationError(
                f"A household is 1 to {HOUSEHOLD_MAX} people (the patient counts as one).",
                code="invalid",
            )
        return size


class AssistanceForm(forms.Form):
    outcome = forms.ChoiceField(
        label="The patient",
        choices=[("", "— choose —"), *AssistanceOutcome.choices],
        error_messages={
            "required": "Choose what the patient decided.",
            "invalid_choice": "Choose what the patient decided from the list.",
        },
    )
    household_size = HouseholdField(
        label="People in the household",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
        help_text="The patient and everyone they support or who supports them.",
    )
    income = MoneyField(
        label="Household income for the year",
        required=False,
        allow_zero=True,
        help_text="Before tax, in dollars, like 24000.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("outcome") == AssistanceOutcome.APPLIED:
            if cleaned.get("household_size") is None and "household_size" not in self.errors:
                self.add_error("household_size", "Type how many people are in the household.")
            if cleaned.get("income") is None and "income" not in self.errors:
                self.add_error("income", "Type the household's income for the year.")
        return cleaned
