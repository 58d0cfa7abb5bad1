from __future__ import annotations

from django import forms

from frontdesk.lib.choices import choose_first
from frontdesk.supplies.models import QUANTITY_MAX, LogKind


def _quantity(label: str, *, minimum: int = 0, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=minimum,
        max_value=QUANTITY_MAX,
        error_messages={
            "required": "Type a number.",
            "invalid": "Type a whole number.",
            "min_value": f"Type a number of {minimum} or more.",
            "max_value": f"More than {QUANTITY_MAX:,} looks like a typo; check the number.",
        },
    )


class SupplyItemForm(forms.Form):
    name = forms.CharField(
        label="Item",
        max_length=120,
        error_messages={
            "required": "Name the item.",
            "max_length": "Keep the name under 120 characters.",
        },
    )
    unit = forms.CharField(
        label="Unit",
        max_length=40,
        help_text="As it is ordered: box of 100, ream, roll.",
        error_messages={
            "required": "Say the unit it is ordered in.",
            "max_length": "Keep the unit under 40 characters.",
        },
    )
    par_level = _quantity("Par level (reorder below)")
    supplier = forms.CharField(
        label="Supplier",
        max_length=120,
        required=False,
        error_messages={"max_length": "Keep the supplier under 120 characters."},
    )
    active = forms.BooleanField(label="Still stocked", required=False, initial=True)


class NewSupplyItemForm(SupplyItemForm):
    on_hand = _quantity("On hand now")


class CountForm(forms.Form):
    counted = _quantity("Counted on the shelf")
    note = forms.CharField(label="Note", max_length=300, required=False)


class AdjustForm(forms.Form):
    kind = forms.ChoiceField(
        label="What happened",
        choices=choose_first(
            [
                (LogKind.RECEIVED, "Delivery received"),
                (LogKind.USED, "Taken for use"),
                (LogKind.CORRECTED, "Correction (say why)"),
            ]
        ),
        error_messages={
            "required": "Choose what happened.",
            "invalid_choice": "Choose what happened from the list.",
        },
    )
    quantity = forms.IntegerField(
        label="How many",
        min_value=-QUANTITY_MAX,
        max_value=QUANTITY_MAX,
        error_messages={
            "required": "Type how many.",
            "invalid": "Type a whole number.",
            "min_value": "That number looks like a typo; check it.",
            "max_value": f"More than {QUANTITY_MAX:,} looks like a typo; check the number.",
        },
    )
    note = forms.CharField(label="Note", max_length=300, required=False)
