"""No form chooses a fact about a patient for the officer.

Every form class of the project is found (every `forms*.py` module imported, every subclass of
Django's BaseForm collected) and made as its page makes it. A choice list that opens on a real
value ("Female", "Mobile", "Phone call", "Patient") lets a record be saved with a fact nobody
chose; such a list must open empty, on "— choose —". Only the defaults below, which describe
the clinic or the desk's own routine rather than the patient, may stay.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from django import forms

import frontdesk
from conftest import Personas
from frontdesk.documents.models import Document
from frontdesk.lib.choices import CHOOSE_LABEL
from frontdesk.referrals.models import Practice

# Defaults that describe the clinic or the desk's routine, not a patient: "form.field" → why.
CLINIC_DEFAULTS = {
    # The clinic's own country: most patients, addresses and documents are from it.
    "RegistrationForm.country": "the clinic's country",
    "PatientAddressForm.country": "the clinic's country",
    "IdentityDocumentForm.issuing_country": "the clinic's country",
    # Every record starts "normal"; restricting one is a decision with a reason.
    "RegistrationForm.confidentiality": "the clinic's default confidentiality",
    # Everyone waits their turn unless the desk raises them, and then it must say why.
    "CheckInForm.priority": "the queue's usual order",
    "WalkInForm.priority": "the queue's usual order",
    "WaitlistEntryForm.priority": "the waitlist's usual order",
    # The clinic's queues, walk-ins first: where the desk sends the patient, not who they are.
    "WalkInForm.queue": "the desk's routing",
    # A new insurance is the primary one unless the officer says otherwise; the order of
    # coverages is checked against the patient's others when saved.
    "CoverageForm.rank": "the first coverage's order",
    # Set-up forms describe the clinic's appointment types, hours and blocked time.
    "AppointmentTypeForm.patient_kind": "set-up of the clinic",
    "BlockForm.kind": "set-up of the clinic",
    "TemplateForm.every_weeks": "set-up of the clinic",
}


def _form_classes() -> Iterator[type[forms.BaseForm]]:
    for module in pkgutil.walk_packages(frontdesk.__path__, "frontdesk."):
        if module.name.rsplit(".", 1)[-1].startswith("forms"):
            importlib.import_module(module.name)
    seen: set[type[forms.BaseForm]] = set()
    todo: list[type[Any]] = [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("frontdesk.") and sub not in seen:
                seen.add(sub)
    yield from sorted(seen, key=lambda cls: (cls.__module__, cls.__name__))


FORM_CLASSES = list(_form_classes())


def _make(cls: type[forms.BaseForm], clinic_id: int) -> forms.BaseForm:
    """The form as a page opens it, with every optional part of it shown."""
    known: dict[str, Any] = {
        "clinic_id": clinic_id,
        "queues": [(1, "W · Walk-ins"), (2, "A · Dr Lee")],
        "outstanding": {"address", "consent"},
        "late": True,
        "user": None,  # the password forms' account: their fields do not depend on it
        # A referral's pages: the patient's documents and visits, the clinic's practices.
        "documents": Document.objects.none(),
        "visits": [],
        "practices": Practice.objects.none(),
    }
    params = inspect.signature(cls.__init__).parameters
    kwargs = {name: value for name, value in known.items() if name in params}
    return cls(**kwargs)


def _flat(choices: Any) -> list[tuple[Any, Any]]:
    flat: list[tuple[Any, Any]] = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            flat += _flat(label)
        else:
            flat.append((value, label))
    return flat


def _preset_choices(form: forms.BaseForm) -> dict[str, str]:
    """Each choice list of `form` that opens on a value, and what the officer would see."""
    found: dict[str, str] = {}
    for name, bound in form.fields.items():
        field = form.fields[name]
        if (
            not isinstance(field, forms.ChoiceField)
            or isinstance(field, forms.MultipleChoiceField | forms.ModelChoiceField)
            or field.widget.is_hidden
        ):
            # Ticked boxes are checked separately; lists of the clinic's records (providers,
            # types, locations) open on "— choose —" or "Any" (see below) or are narrowed per page.
            continue
        initial = form.get_initial_for_field(bound, name)
        choices = _flat(field.choices)
        if isinstance(field.widget, forms.RadioSelect):
            shown = "" if initial in (None, "") else str(initial)
        else:
            shown = str(initial) if initial not in (None, "") else str(choices[0][0])
        if shown:
            found[f"{type(form).__name__}.{name}"] = shown
        elif field.required and not isinstance(field.widget, forms.RadioSelect):
            assert choices[0] == ("", CHOOSE_LABEL), f"{type(form).__name__}.{name}"
    return found


def test_it_finds_the_forms_of_every_app() -> None:
    names = {cls.__name__ for cls in FORM_CLASSES}
    assert {
        "RegistrationForm",
        "CoverageForm",
        "PatientAddressForm",
        "IdentityDocumentForm",
        "WalkInForm",
        "CheckInForm",
        "WaitlistEntryForm",
        "CancelForm",
        "PaymentForm",
    } <= names


@pytest.mark.parametrize("cls", FORM_CLASSES, ids=[cls.__name__ for cls in FORM_CLASSES])
def test_no_choice_about_a_patient_is_made_before_the_officer_makes_it(
    cls: type[forms.BaseForm], personas: Personas
) -> None:
    preset = _preset_choices(_make(cls, personas.clinic.pk))
    chosen_for_the_officer = {
        name: value for name, value in preset.items() if name not in CLINIC_DEFAULTS
    }
    assert chosen_for_the_officer == {}


def test_the_clinic_defaults_name_real_fields(personas: Personas) -> None:
    fields = {
        f"{cls.__name__}.{name}"
        for cls in FORM_CLASSES
        for name in _make(cls, personas.clinic.pk).fields
    }
    assert set(CLINIC_DEFAULTS) <= fields


@pytest.mark.parametrize("cls", FORM_CLASSES, ids=[cls.__name__ for cls in FORM_CLASSES])
def test_no_list_of_the_clinics_records_opens_on_dashes(
    cls: type[forms.BaseForm], personas: Personas
) -> None:
    """Django's "---------" says nothing; an empty list says "— choose —", "Any" or the like."""
    form = _make(cls, personas.clinic.pk)
    dashes = [
        name
        for name, field in form.fields.items()
        if isinstance(field, forms.ModelChoiceField)
        and not isinstance(field, forms.ModelMultipleChoiceField)
        and not field.widget.is_hidden
        and field.empty_label is not None
        and set(str(field.empty_label)) <= {"-"}
    ]
    assert dashes == []
