"""Schedule set-up pages: appointment types, weekly hours, blocks and leave, holidays, and the
title visits have in calendar feeds.

Each view: authorise (SCHEDULE_SETUP), parse with a form, call one service of setup.py, show
what happened; a refusal goes back to the form with everything typed still in it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.clinic.models import AppointmentType
from frontdesk.lib.clinic_time import clinic_zone, day_words
from frontdesk.scheduling import setup
from frontdesk.scheduling.forms_setup import (
    AppointmentTypeForm,
    BlockForm,
    CalendarTitleForm,
    HolidayForm,
    LeaveForm,
    TemplateForm,
)
from frontdesk.scheduling.models import Block, BlockKind, ClinicHoliday, ScheduleTemplate

T = "scheduling/setup/"


def _refused(form: BaseForm, exc: setup.SetupRefusedError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _warn(request: HttpRequest, warnings: list[str]) -> None:
    for text in warnings:
        messages.warning(request, text)


@policy(Action.SCHEDULE_SETUP)
def setup_index_view(request: HttpRequest) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    summary = setup.setup_summary(clinic=clinic, now=timezone.now())
    return render(request, T + "index.html", {"summary": summary})


# --- Appointment types ----------------------------------------------------------------------


@policy(Action.SCHEDULE_SETUP)
def type_list_view(request: HttpRequest) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    kinds = (
        AppointmentType.objects.filter(clinic=clinic)
        .prefetch_related("allowed_providers")
        .order_by("name")
    )
    return render(request, T + "types.html", {"kinds": kinds})


@policy(Action.SCHEDULE_SETUP)
def type_edit_view(request: HttpRequest, type_id: int | None = None) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    kind = (
        get_object_or_404(AppointmentType, pk=type_id, clinic=clinic)
        if type_id is not None
        else AppointmentType(clinic=clinic)
    )
    form = AppointmentTypeForm(
        request.POST if request.method == "POST" else None, instance=kind, clinic_id=clinic.pk
    )
    if request.method == "POST" and form.is_valid():
        unsaved = form.save(commit=False)
        unsaved.is_new_patient = form.cleaned_data["patient_kind"] == "new"
        try:
            setup.appointment_type_save(
                context=audit_context(request),
                appointment_type=unsaved,
                allowed_providers=list(form.cleaned_data["allowed_providers"]),
                changed=form.changed_data,
            )
        except setup.SetupRefusedError as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"Saved the appointment type {unsaved.name}.")
            return redirect("scheduling:setup_types")
    status = 400 if form.errors else 200
    return render(request, T + "type_form.html", {"form": form, "kind": kind}, status=status)


@policy(Action.SCHEDULE_SETUP)
@require_POST
def type_delete_view(request: HttpRequest, type_id: int) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    kind = get_object_or_404(AppointmentType, pk=type_id, clinic=clinic)
    try:
        setup.appointment_type_delete(context=audit_context(request), appointment_type=kind)
    except setup.SetupRefusedError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted the appointment type {kind.name}.")
    return redirect("scheduling:setup_types")


# --- Weekly templates -----------------------------------------------------------------------


@policy(Action.SCHEDULE_SETUP)
def template_list_view(request: HttpRequest) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    today = timezone.localdate(timezone=clinic_zone(clinic))
    templates = (
        ScheduleTemplate.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today), schedule__clinic=clinic
        )
        .select_related("schedule__provider", "schedule__location")
        .order_by(
            "schedule__provider__family_name",
            "schedule__provider__given_name",
            "schedule__location__name",
            "start_time",
            "pk",
        )
    )
    rows = [(t, setup.rule_in_words(t.rrule)) for t in templates]
    return render(request, T + "templates.html", {"rows": rows})


@policy(Action.SCHEDULE_SETUP)
def template_edit_view(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    template = (
        get_object_or_404(
            ScheduleTemplate.objects.select_related("schedule"),
            pk=template_id,
            schedule__clinic=clinic,
        )
        if template_id is not None
        else None
    )
    initial = TemplateForm.initial_for(template) if template is not None else None
    form = TemplateForm(
        request.POST if request.method == "POST" else None, clinic_id=clinic.pk, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            _saved, notes = setup.template_save(
                context=audit_context(request),
                clinic=clinic,
                template=template,
                data=form.template_input(),
            )
        except setup.SetupRefusedError as exc:
            _refused(form, exc)
        else:
            messages.success(request, "Saved the weekly hours.")
            _warn(request, notes)
            return redirect("scheduling:setup_templates")
    status = 400 if form.errors else 200
    context = {"form": form, "template": template}
    return render(request, T + "template_form.html", context, status=status)


@policy(Action.SCHEDULE_SETUP)
@require_POST
def template_delete_view(request: HttpRequest, template_id: int) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    template = get_object_or_404(
        ScheduleTemplate.objects.select_related("schedule__provider", "schedule__location"),
        pk=template_id,
        schedule__clinic=clinic,
    )
    notes = setup.template_delete(context=audit_context(request), template=template)
    messages.success(request, "Deleted the weekly hours.")
    _warn(request, notes)
    return redirect("scheduling:setup_templates")


# --- Blocks and leave -----------------------------------------------------------------------


@policy(Action.SCHEDULE_SETUP)
def block_list_view(request: HttpRequest) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    blocks = (
        Block.objects.filter(schedule__clinic=clinic, end__gt=timezone.now())
        .select_related("schedule__provider", "schedule__location")
        .prefetch_related("appointment_types")
        .order_by("start", "pk")
    )
    # Leave ends at midnight after its last day; the list shows the last day itself.
    rows = [
        (block, (timezone.localtime(block.end) - dt.timedelta(days=1)).date()) for block in blocks
    ]
    return render(request, T + "blocks.html", {"rows": rows, "leave": BlockKind.LEAVE})


@policy(Action.SCHEDULE_SETUP)
def block_add_view(request: HttpRequest) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    form = BlockForm(request.POST if request.method == "POST" else None, clinic_id=clinic.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            blocks, notes = setup.block_create(
                context=audit_context(request),
                data=setup.BlockInput(
                    schedule=data["schedule"],
                    kind=BlockKind(data["kind"]),
                    day=data["day"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                    repeat_until=data.get("repeat_until"),
                    appointment_types=list(data.get("appointment_types") or []),
                    release_days_before=data.get("release_days_before"),
                    reason=data.get("reason") or "",
                ),
            )
        except setup.SetupRefusedError as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"Saved {len(blocks)} block(s).")
            _warn(request, notes)
            return redirect("scheduling:setup_blocks")
    status = 400 if form.errors else 200
    return render(request, T + "block_form.html", {"form": form}, status=status)


@policy(Action.SCHEDULE_SETUP)
def leave_add_view(request: HttpRequest) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    form = LeaveForm(request.POST if request.method == "POST" else None, clinic_id=clinic.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _block, notes = setup.leave_create(
                context=audit_context(request),
                provider=data["provider"],
                first_day=data["first_day"],
                last_day=data["last_day"],
                reason=data.get("reason") or "",
            )
        except setup.SetupRefusedError as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"Saved the leave of {data['provider']}.")
            _warn(request, notes)
            return redirect("scheduling:setup_blocks")
    status = 400 if form.errors else 200
    return render(request, T + "leave_form.html", {"form": form}, status=status)


@policy(Action.SCHEDULE_SETUP)
@require_POST
def block_delete_view(request: HttpRequest, block_id: int) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    block = get_object_or_404(Block, pk=block_id, schedule__clinic=clinic)
    setup.block_delete(context=audit_context(request), block=block)
    messages.success(request, "Deleted; the time is bookable again.")
    return redirect("scheduling:setup_blocks")


# --- Clinic holidays ------------------------------------------------------------------------


@policy(Action.SCHEDULE_SETUP)
def holiday_list_view(request: HttpRequest) -> HttpResponse:
    """The clinic's holidays from this year on, and the form to add one."""
    clinic = staff_clinic(staff_user(request))
    form = HolidayForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            holiday, notes = setup.holiday_add(
                context=audit_context(request),
                clinic=clinic,
                day=form.cleaned_data["date"],
                name=form.cleaned_data["name"],
            )
        except setup.SetupRefusedError as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"The clinic is closed on {day_words(holiday.date)}.")
            _warn(request, notes)
            return redirect("scheduling:setup_holidays")
    today = timezone.localdate(timezone=clinic_zone(clinic))
    holidays = ClinicHoliday.objects.filter(
        clinic=clinic, date__gte=today.replace(month=1, day=1)
    ).order_by("date")
    context: dict[str, Any] = {"form": form, "holidays": holidays, "today": today}
    return render(request, T + "holidays.html", context, status=400 if form.errors else 200)


@policy(Action.SCHEDULE_SETUP)
@require_POST
def holiday_delete_view(request: HttpRequest, holiday_id: int) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    holiday = get_object_or_404(ClinicHoliday, pk=holiday_id, clinic=clinic)
    setup.holiday_delete(context=audit_context(request), holiday=holiday)
    messages.success(request, f"{holiday.name} is no longer a holiday.")
    return redirect("scheduling:setup_holidays")


# --- Calendar feeds --------------------------------------------------------------------------


@policy(Action.SCHEDULE_SETUP)
def calendar_title_view(request: HttpRequest) -> HttpResponse:
    """The neutral title every visit has in providers' calendar feeds."""
    clinic = staff_clinic(staff_user(request))
    form = CalendarTitleForm(
        request.POST if request.method == "POST" else None,
        initial={"title": clinic.calendar_event_title},
    )
    if request.method == "POST" and form.is_valid():
        try:
            setup.calendar_event_title_save(
                context=audit_context(request), clinic=clinic, title=form.cleaned_data["title"]
            )
        except setup.SetupRefusedError as exc:
            _refused(form, exc)
        else:
            messages.success(
                request, f"Visits are called “{clinic.calendar_event_title}” in calendar feeds."
            )
            return redirect("scheduling:setup_calendar")
    status = 400 if form.errors else 200
    return render(request, T + "calendar.html", {"form": form}, status=status)


# Included under "setup/" by scheduling/urls.py, in the "scheduling" namespace.
urlpatterns = [
    path("", setup_index_view, name="setup"),
    path("types/", type_list_view, name="setup_types"),
    path("types/add/", type_edit_view, name="setup_type_add"),
    path("types/<id:type_id>/", type_edit_view, name="setup_type_edit"),
    path("types/<id:type_id>/delete/", type_delete_view, name="setup_type_delete"),
    path("hours/", template_list_view, name="setup_templates"),
    path("hours/add/", template_edit_view, name="setup_template_add"),
    path("hours/<id:template_id>/", template_edit_view, name="setup_template_edit"),
    path("hours/<id:template_id>/delete/", template_delete_view, name="setup_template_delete"),
    path("blocks/", block_list_view, name="setup_blocks"),
    path("blocks/add/", block_add_view, name="setup_block_add"),
    path("blocks/leave/", leave_add_view, name="setup_leave_add"),
    path("blocks/<id:block_id>/delete/", block_delete_view, name="setup_block_delete"),
    path("holidays/", holiday_list_view, name="setup_holidays"),
    path("holidays/<id:holiday_id>/delete/", holiday_delete_view, name="setup_holiday_delete"),
    path("calendar/", calendar_title_view, name="setup_calendar"),
]
