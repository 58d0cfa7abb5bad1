"""Cash drawers: the officer's own drawer (open, close), and for billing and supervisors the
day's drawers, one drawer's close-out with its review, and the day's deposit report."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.billing import drawer, drawer_selectors
from frontdesk.billing.forms import DrawerCloseForm, DrawerOpenForm, VarianceReviewForm
from frontdesk.billing.models import LedgerEntry
from frontdesk.billing.services import BillingRefusedError
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.dates import date_parse
from frontdesk.lib.ids import parse_id
from frontdesk.lib.money import money_format


def _own_page(
    request: HttpRequest,
    open_form: DrawerOpenForm | None = None,
    close_form: DrawerCloseForm | None = None,
    preview: drawer.ClosePreview | None = None,
) -> HttpResponse:
    user = staff_user(request)
    clinic = staff_clinic(user)
    page = drawer_selectors.own_drawer_page(user)
    if page.drawer is None and open_form is None:
        open_form = DrawerOpenForm(clinic_id=clinic.pk)
    if page.drawer is not None and close_form is None:
        close_form = DrawerCloseForm()
    context = {
        "page": page,
        "open_form": open_form,
        "close_form": close_form,
        "preview": preview,
        "variance_words": drawer.variance_words(preview.variance) if preview else "",
    }
    bound = (open_form is not None and open_form.is_bound) or (
        close_form is not None and close_form.is_bound
    )
    return render(request, "billing/drawer.html", context, status=400 if bound else 200)


@policy(Action.DRAWER_USE)
def drawer_view(request: HttpRequest) -> HttpResponse:
    """The officer's drawer: open it with a counted float, see what it should hold by method,
    and close it with the cash counted by denomination."""
    return _own_page(request)


@policy(Action.DRAWER_USE)
def drawer_open_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("billing:drawer")
    user = staff_user(request)
    form = DrawerOpenForm(request.POST, clinic_id=staff_clinic(user).pk)
    if form.is_valid():
        try:
            opened = drawer.drawer_open(
                context=audit_context(request),
                user=user,
                location=form.cleaned_data["location"],
                opening_float=form.cleaned_data["opening_float"],
                now=timezone.now(),
            )
        except BillingRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Drawer open at {opened.location} with a float of "
                f"{money_format(opened.opening_float)}.",
            )
            return redirect("billing:drawer")
    return _own_page(request, open_form=form)


@policy(Action.DRAWER_USE)
def drawer_close_view(request: HttpRequest, drawer_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("billing:drawer")
    user = staff_user(request)
    form = DrawerCloseForm(request.POST)
    preview = None
    if form.is_valid():
        try:
            close_out = drawer.drawer_close(
                context=audit_context(request),
                user=user,
                drawer_id=drawer_id,
                counts=form.counts(),
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except drawer.VarianceReasonRequiredError as exc:
            form.add_error("reason", str(exc))
            preview = exc.preview
        except BillingRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            words = drawer.variance_words(close_out.variance)
            note = " It is on the supervisor's desk queue." if close_out.beyond_tolerance else ""
            messages.success(
                request,
                f"Drawer closed: counted {money_format(close_out.counted_cash)}, expected "
                f"{money_format(close_out.expected_cash)} ({words}).{note}",
            )
            return redirect("billing:drawer")
    return _own_page(request, close_form=form, preview=preview)


def _day(request: HttpRequest, clinic_id: int) -> dt.date:
    typed = request.GET.get("day", "").strip()
    parsed = (
        date_parse(typed, order=settings.DATE_INPUT_ORDER) if typed and len(typed) <= 40 else None
    )
    return parsed or timezone.localdate(timezone.now(), clinic_zone(clinic_id))


@policy(Action.DRAWER_OVERSEE)
def drawers_view(request: HttpRequest) -> HttpResponse:
    """The day's drawers, by location: who, float, taken by method, counted, variance."""
    clinic = staff_clinic(staff_user(request))
    day = _day(request, clinic.pk)
    location_id = parse_id(request.GET.get("location", ""))
    context = {
        "day": day,
        "location_id": location_id,
        "locations": clinic.locations.order_by("name"),
        "lines": drawer_selectors.day_drawers(
            clinic_id=clinic.pk, day=day, location_id=location_id
        ),
    }
    return render(request, "billing/drawers.html", context)


@policy(Action.DRAWER_OVERSEE)
def drawer_detail_view(request: HttpRequest, drawer_id: int) -> HttpResponse:
    """One drawer: its lines, the close-out by denomination, and the supervisor's review."""
    user = staff_user(request)
    found = drawer_selectors.drawer_detail(clinic_id=staff_clinic(user).pk, drawer_id=drawer_id)
    if found is None:
        raise Http404("No such drawer")
    line, entries = found
    return _detail_page(request, line, entries, VarianceReviewForm())


def _detail_page(
    request: HttpRequest,
    line: drawer_selectors.DrawerLine,
    entries: list[LedgerEntry],
    form: VarianceReviewForm,
) -> HttpResponse:
    user = staff_user(request)
    close_out = line.close_out
    may_review = (
        close_out is not None
        and close_out.beyond_tolerance
        and not line.reviewed
        and role_may(user.role, Action.DRAWER_REVIEW)
    )
    context = {
        "line": line,
        "entries": entries,
        "counts": drawer_selectors.count_lines(close_out) if close_out else [],
        "variance_words": drawer.variance_words(close_out.variance) if close_out else "",
        "review_form": form if may_review else None,
    }
    return render(
        request, "billing/drawer_detail.html", context, status=400 if form.errors else 200
    )


@policy(Action.DRAWER_REVIEW)
def drawer_review_view(request: HttpRequest, drawer_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("billing:drawer_detail", drawer_id)
    user = staff_user(request)
    clinic = staff_clinic(user)
    form = VarianceReviewForm(request.POST)
    if form.is_valid():
        try:
            drawer.drawer_variance_review(
                context=audit_context(request),
                user=user,
                drawer_id=drawer_id,
                note=form.cleaned_data["note"],
                now=timezone.now(),
            )
        except BillingRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Variance reviewed; it has left the desk queue.")
            return redirect("billing:drawer_detail", drawer_id)
    found = drawer_selectors.drawer_detail(clinic_id=clinic.pk, drawer_id=drawer_id)
    if found is None:
        raise Http404("No such drawer")
    return _detail_page(request, found[0], list(found[1]), form)


@policy(Action.DRAWER_OVERSEE)
def deposit_view(request: HttpRequest) -> HttpResponse:
    """The day's deposit per location, printable: cash and cheques to the bank, card totals."""
    clinic = staff_clinic(staff_user(request))
    day = _day(request, clinic.pk)
    location_id = parse_id(request.GET.get("location", ""))
    context = {
        "clinic": clinic,
        "day": day,
        "deposits": drawer_selectors.deposit_report(
            clinic_id=clinic.pk, day=day, location_id=location_id
        ),
    }
    return render(request, "billing/deposit.html", context)
