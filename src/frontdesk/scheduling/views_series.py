"""Recurring series: plan and preview, book, see a series, resolve its conflicts, cancel it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.models import AuditObject
from frontdesk.audit.services import audit_context
from frontdesk.patients.models import Patient
from frontdesk.patients.selectors import access_patient, patients_shown
from frontdesk.scheduling import series, services
from frontdesk.scheduling.forms import parse_start
from frontdesk.scheduling.forms_series import SeriesCancelForm, SeriesForm
from frontdesk.scheduling.models import CancelledBy


def _posted_number(request: HttpRequest, name: str) -> int:
    value = request.POST.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise Http404(f"No such {name}")
    return int(value)


def _carried(form: SeriesForm) -> list[tuple[str, str]]:
    """The preview's choices, posted again to book exactly what was shown."""
    data = form.data
    if not isinstance(data, QueryDict):
        return []
    return [(key, value) for key, values in data.lists() for value in values]


def _plan_page(
    request: HttpRequest,
    patient: Patient,
    form: SeriesForm,
    occurrences: list[series.Occurrence],
    *,
    status: int = 200,
    problem: str = "",
) -> HttpResponse:
    if not occurrences:  # a preview records its own view of the patient
        patients_shown(
            context=audit_context(request),
            patient_ids=[patient.pk],
            page=AuditObject.APPOINTMENT_SERIES_PLAN,
        )
    context = {
        "patient": patient,
        "form": form,
        "occurrences": occurrences,
        "free": sum(1 for o in occurrences if o.is_free),
        "problem": problem,
        "carried": _carried(form),
    }
    return render(request, "scheduling/series_new.html", context, status=status)


@policy(Action.APPOINTMENT_BOOK)
def series_new_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Plan a series and preview every visit with its status; nothing is booked yet."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    patient = access_patient(user, patient_id)
    bound = "appointment_type" in request.GET
    form = SeriesForm(request.GET if bound else None, clinic_id=clinic.pk)
    occurrences: list[series.Occurrence] = []
    if bound and form.is_valid() and form.plan is not None:
        occurrences = series.series_preview(
            context=audit_context(request), user=user, patient=patient, plan=form.plan
        )
    return _plan_page(request, patient, form, occurrences, status=400 if form.errors else 200)


@policy(Action.APPOINTMENT_BOOK)
@require_POST
def series_book_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    user = staff_user(request)
    clinic = staff_clinic(user)
    patient = access_patient(user, patient_id)
    form = SeriesForm(request.POST, clinic_id=clinic.pk)
    if not form.is_valid() or form.plan is None:
        return _plan_page(request, patient, form, [], status=400)
    try:
        outcome = series.series_book(
            context=audit_context(request), user=user, patient=patient, plan=form.plan
        )
    except series.SeriesRefusedError as exc:
        occurrences = series.series_preview(
            context=audit_context(request), user=user, patient=patient, plan=form.plan
        )
        return _plan_page(request, patient, form, occurrences, status=409, problem=str(exc))
    booked, conflicts = len(outcome.booked), len(outcome.conflicts)
    text = f"Booked {booked} of {booked + conflicts} visits."
    if conflicts:
        text += f" {conflicts} could not be booked as planned: choose another time or skip each."
    messages.success(request, text)
    return redirect("scheduling:series", series_id=outcome.series.pk)


@policy(Action.APPOINTMENT_VIEW)
def series_view(request: HttpRequest, series_id: int) -> HttpResponse:
    user = staff_user(request)
    page = series.series_page(context=audit_context(request), user=user, series_id=series_id)
    return render(request, "scheduling/series.html", _series_context(user.role, page))


def _series_context(
    role: str, page: series.SeriesPage, cancel_form: SeriesCancelForm | None = None
) -> dict[str, object]:
    return {
        "page": page,
        "patient": page.patient,
        "can_book": role_may(role, Action.APPOINTMENT_BOOK),
        "cancel_form": cancel_form
        or SeriesCancelForm(initial={"cancelled_by": CancelledBy.PATIENT}),
    }


@policy(Action.APPOINTMENT_BOOK)
@require_POST
def series_resolve_view(request: HttpRequest, series_id: int) -> HttpResponse:
    """Book a visit that could not be booked as planned at a chosen time, or skip it."""
    user = staff_user(request)
    number = _posted_number(request, "visit")
    context = audit_context(request)
    try:
        if request.POST.get("skip") == "yes":
            series.series_visit_skip(
                context=context,
                user=user,
                series_id=series_id,
                number=number,
                reason=request.POST.get("reason", "")[:150],
            )
            messages.success(request, f"Visit {number} skipped.")
        else:
            start = parse_start(request.POST.get("start", ""))
            if start is None:
                raise series.SeriesRefusedError(
                    "Pick one of the times offered near the planned visit."
                )
            series.series_visit_book(
                context=context, user=user, series_id=series_id, number=number, start=start
            )
            messages.success(
                request, f"Visit {number} booked on {timezone.localtime(start):%a %b %-d at %H:%M}."
            )
    except (series.SeriesRefusedError, services.BookingRefusedError) as exc:
        messages.error(request, f"Visit {number} was not booked. {str(exc).rstrip('.')}.")
    return redirect("scheduling:series", series_id=series_id)


@policy(Action.APPOINTMENT_BOOK)
@require_POST
def series_cancel_view(request: HttpRequest, series_id: int) -> HttpResponse:
    """Cancel every remaining visit of the series in one go, with a reason."""
    user = staff_user(request)
    context = audit_context(request)
    form = SeriesCancelForm(request.POST)
    if not form.is_valid():
        page = series.series_page(context=context, user=user, series_id=series_id)
        return render(
            request, "scheduling/series.html", _series_context(user.role, page, form), status=400
        )
    try:
        cancelled = series.series_cancel_remaining(
            context=context,
            user=user,
            series_id=series_id,
            cancelled_by=CancelledBy(form.cleaned_data["cancelled_by"]),
            reason=form.cleaned_data["reason"],
        )
    except (series.SeriesRefusedError, services.BookingRefusedError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Cancelled the {cancelled} remaining appointment(s).")
    return redirect("scheduling:series", series_id=series_id)
