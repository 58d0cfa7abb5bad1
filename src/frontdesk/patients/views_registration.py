"""Registration: form -> read-back with the duplicate check -> save (or open the existing)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.lib.money import money_format
from frontdesk.lib.readback import date_in_words, phone_grouped, spell_out
from frontdesk.patients import services
from frontdesk.patients.duplicates import (
    DuplicateCandidate,
    duplicate_check,
    duplicate_comparisons,
    person_record_from_data,
)
from frontdesk.patients.forms import (
    DuplicateDecisionForm,
    IdentityDocumentForm,
    PatientAddressForm,
    RegistrationCoverageForm,
    RegistrationForm,
)
from frontdesk.patients.matching.verdict import EXISTING_PATIENT_THRESHOLD
from frontdesk.patients.models import IdentityDocumentKind, SubscriberRelationship
from frontdesk.patients.selectors import (
    access_patient,
    identity_document_holder_id,
    parse_search_query,
    patients_shown,
)


class ExtraForms:
    """The optional blocks of the registration page: one further address, one identity
    document and one insurance coverage. Left empty, they add nothing."""

    def __init__(
        self,
        data: Any = None,
        *,
        clinic_id: int,
        address_initial: dict[str, Any] | None = None,
        document_initial: dict[str, Any] | None = None,
        coverage_initial: dict[str, Any] | None = None,
    ) -> None:
        self.clinic_id = clinic_id
        self.address = PatientAddressForm(
            data, prefix="extra_address", optional=True, initial=address_initial
        )
        self.document = IdentityDocumentForm(
            data, prefix="document", optional=True, initial=document_initial
        )
        self.coverage = RegistrationCoverageForm(
            data, prefix="coverage", clinic_id=clinic_id, initial=coverage_initial
        )

    def is_valid(self) -> bool:
        return all([self.address.is_valid(), self.document.is_valid(), self.coverage.is_valid()])

    def unbound_copy(self) -> ExtraForms:
        """The blocks as typed, without messages (the officer chose to change something)."""
        return ExtraForms(
            clinic_id=self.clinic_id,
            address_initial=_bound_values(self.address),
            document_initial=_bound_values(self.document),
            coverage_initial=_bound_values(self.coverage),
        )

    @property
    def context(self) -> dict[str, Any]:
        return {
            "address_form": self.address,
            "document_form": self.document,
            "coverage_form": self.coverage,
        }

    @property
    def address_data(self) -> dict[str, Any] | None:
        return None if self.address.is_blank else self.address.cleaned_data

    @property
    def document_data(self) -> dict[str, Any] | None:
        return None if self.document.is_blank else self.document.cleaned_data

    @property
    def coverage_data(self) -> dict[str, Any] | None:
        return None if self.coverage.is_blank else self.coverage.cleaned_data


def _form_page(
    request: HttpRequest, form: RegistrationForm, extras: ExtraForms, status: int = 200
) -> HttpResponse:
    context = {"form": form, **extras.context}
    return render(request, "patients/register.html", context, status=status)


def _initial_from_search(query: str) -> dict[str, Any]:
    """Carry what the officer already typed in the search box into the form."""
    parsed = parse_search_query(query)
    initial: dict[str, Any] = {}
    if parsed.birth_date:
        initial["birth_date"] = parsed.birth_date
    elif parsed.phone_e164:
        initial["phone"] = parsed.phone_e164
    elif parsed.family or parsed.given:
        initial["family_name"], initial["given_name"] = parsed.family or "", parsed.given or ""
    elif parsed.tokens:
        # "smith john": the search box is usually typed family name first.
        initial["family_name"] = parsed.tokens[0]
        initial["given_name"] = " ".join(parsed.tokens[1:])
    return initial


def _readback(data: dict[str, Any], extras: ExtraForms) -> list[tuple[str, str, str]]:
    rows = [
        ("Given name", data["given_name"], spell_out(data["given_name"])),
        ("Family name", data["family_name"], spell_out(data["family_name"])),
        ("Birth date", data["birth_date"].strftime("%Y-%m-%d"), date_in_words(data["birth_date"])),
    ]
    if data.get("phone"):
        rows.append(
            (
                "Main phone",
                data["phone"],
                phone_grouped(data["phone"], home_region=settings.PHONE_REGION),
            )
        )
    if data.get("address_line1"):
        # Each field on its own row: a one-line address split by the form is read back as
        # split, so the officer confirms which words went where.
        street = ", ".join(p for p in (data["address_line1"], data.get("address_line2")) if p)
        rows.append(("Address", street, street))
        for name, label in (("city", "City / town"), ("state", "State / region")):
            if data.get(name):
                rows.append((label, data[name], data[name]))
        if data.get("postal_code"):
            postal = data["postal_code"]
            rows.append(("Postal code", postal, spell_out(postal)))
    if data.get("email"):
        rows.append(("Email", data["email"], spell_out(data["email"].replace("@", " at "))))
    document = extras.document_data
    if document:
        label = f"{IdentityDocumentKind(document['kind']).label} number"
        rows.append((label, document["number"], spell_out(document["number"])))
    coverage = extras.coverage_data
    if coverage:
        rows += _coverage_readback(coverage)
    return rows


def _coverage_readback(coverage: dict[str, Any]) -> list[tuple[str, str, str]]:
    relationship = SubscriberRelationship(coverage["relationship"]).label
    rows = [
        ("Insurance", coverage["payer"].name, coverage["payer"].name),
        ("Member ID", coverage["member_id"], spell_out(coverage["member_id"])),
        ("Patient is the subscriber's", relationship, relationship),
    ]
    for name, label in (("plan_name", "Plan"), ("subscriber_name", "Subscriber")):
        if coverage.get(name):
            rows.append((label, coverage[name], coverage[name]))
    if coverage.get("group_number"):
        group = coverage["group_number"]
        rows.append(("Group number", group, spell_out(group)))
    for name, label in (
        ("subscriber_birth_date", "Subscriber's birth date"),
        ("effective_date", "Insurance from"),
        ("end_date", "Insurance until"),
    ):
        if coverage.get(name):
            day = coverage[name]
            rows.append((label, day.strftime("%Y-%m-%d"), date_in_words(day)))
    copay = coverage.get("copay")
    rows.append(
        (
            "Co-pay per visit",
            money_format(copay) if copay is not None else "none",
            money_format(copay) if copay is not None else "no co-pay",
        )
    )
    return rows


def _review(
    request: HttpRequest,
    form: RegistrationForm,
    extras: ExtraForms,
    candidates: list[DuplicateCandidate],
    decision_form: DuplicateDecisionForm,
    status: int = 200,
    household: list[DuplicateCandidate] | None = None,
) -> HttpResponse:
    household = household or []
    comparisons = duplicate_comparisons(
        data=form.cleaned_data, document=extras.document_data, candidates=candidates
    )
    if candidates or household:
        # The candidates' details are on screen side by side with what was typed: a look at
        # their records. The event names each one and what was shown of it; a household
        # member's note shows the name and MRN only.
        patients_shown(
            context=audit_context(request),
            patient_ids=[c.patient.pk for c in (*candidates, *household)],
            page=AuditObject.DUPLICATE_CHECK,
            detail={
                "scores": [round(c.result.score, 2) for c in candidates],
                "shown": [
                    {
                        "patient_id": shown.candidate.patient.pk,
                        "fields": [row.label for row in shown.rows] or ["Name", "MRN"],
                    }
                    for shown in comparisons
                ]
                + [
                    {"patient_id": c.patient.pk, "fields": ["Name", "MRN"], "household": True}
                    for c in household
                ],
            },
        )
    must_decide = any(c.result.score >= EXISTING_PATIENT_THRESHOLD for c in candidates)
    if decision_form.errors:
        # The reason was refused: the cursor goes back where it is asked for.
        decision_form.fields["override_reason"].widget.attrs["autofocus"] = True
    context = {
        "form": form,
        **extras.context,
        "readback": _readback(form.cleaned_data, extras),
        "candidates": candidates,
        "household": household,
        "comparisons": comparisons,
        "must_decide": must_decide,
        "decision_form": decision_form,
        "threshold": EXISTING_PATIENT_THRESHOLD,
    }
    return render(request, "patients/register_review.html", context, status=status)


@policy(Action.PATIENT_REGISTER)
def register_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    clinic = staff_clinic(user)
    if request.method != "POST":
        query = request.GET.get("q", "")
        form = RegistrationForm(initial=_initial_from_search(query))
        extras = ExtraForms(clinic_id=clinic.pk, document_initial=_document_from_search(query))
        return _form_page(request, form, extras)

    form = RegistrationForm(request.POST)
    extras = ExtraForms(request.POST, clinic_id=clinic.pk)
    step = "use_existing" if "existing_id" in request.POST else request.POST.get("step", "review")
    if step == "edit":
        # Back to the form with everything typed kept.
        return _form_page(
            request, RegistrationForm(initial=_bound_values(form)), extras.unbound_copy()
        )
    if not all([form.is_valid(), extras.is_valid()]):
        return _form_page(request, form, extras, status=400)

    record = person_record_from_data(form.cleaned_data)
    check = duplicate_check(clinic_id=clinic.pk, record=record)
    candidates = check.candidates

    if step == "use_existing":
        existing_id = request.POST.get("existing_id", "")
        chosen = [c for c in candidates if str(c.patient.pk) == existing_id]
        if not chosen:
            messages.error(request, "Choose one of the patients listed.")
            return _review(
                request,
                form,
                extras,
                candidates,
                DuplicateDecisionForm(),
                status=400,
                household=check.household,
            )
        existing = access_patient(user, chosen[0].patient.pk)
        services.patient_duplicate_choice_record(
            context=audit_context(request), existing=existing, candidates=candidates
        )
        messages.success(request, "Opened the existing record. No new record was made.")
        return redirect("patients:chart", patient_id=existing.pk)

    document = extras.document_data
    if document and identity_document_holder_id(clinic_id=clinic.pk, data=document) is not None:
        extras.document.add_error("number", services.IdentityDocumentTakenError().message)
        return _form_page(request, form, extras, status=409)
    if step != "confirm":
        return _review(
            request, form, extras, candidates, DuplicateDecisionForm(), household=check.household
        )

    # Any candidate on screen needs a reason to register anyway, not only a likely one; a
    # household member (a twin, a parent) is a note and needs none.
    decision_form = DuplicateDecisionForm(request.POST, reason_required=bool(candidates))
    if not decision_form.is_valid():
        return _review(
            request, form, extras, candidates, decision_form, status=409, household=check.household
        )
    reason = decision_form.cleaned_data["override_reason"]
    decision = services.DuplicateDecision(override_reason=reason) if reason else None
    try:
        patient = services.patient_register(
            context=audit_context(request),
            clinic=clinic,
            data=form.cleaned_data,
            decision=decision,
            extra_address=extras.address_data,
            identity_document=document,
            coverage=extras.coverage_data,
            warnings_need_reason=True,
            link_household=True,
        )
    except services.IdentityDocumentTakenError as exc:
        # Saved by another desk since the read-back: the whole registration was undone.
        extras.document.add_error("number", exc.message)
        return _form_page(request, form, extras, status=409)
    except services.DuplicateDecisionRequiredError as exc:
        # Registered at another desk since the read-back: show who, and ask again.
        decision_form = DuplicateDecisionForm(request.POST)
        decision_form.is_valid()
        decision_form.add_error(
            "override_reason",
            "This looks like a patient we already have. Open the existing record, or say why "
            "this is a different person.",
        )
        return _review(request, form, extras, exc.candidates, decision_form, status=409)
    messages.success(
        request, f"Registered {patient.given_name} {patient.family_name}: MRN {patient.mrn}."
    )
    return redirect("patients:chart", patient_id=patient.pk)


def _document_from_search(query: str) -> dict[str, Any] | None:
    """A searched document number that found no one goes into the document block."""
    parsed = parse_search_query(query)
    if parsed.document_number and not (parsed.mrn or parsed.phone_tail):
        return {"number": parsed.document_number}
    return None


def _bound_values(form: forms.BaseForm) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in form.fields.items():
        widget_value = field.widget.value_from_datadict(
            form.data, form.files, form.add_prefix(name)
        )
        values[name] = widget_value
    return values
