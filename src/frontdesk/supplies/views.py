"""Office supplies: the list, an item's counts and changes, and the reorder list to print or
export."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from frontdesk.accounts.policy import Action, policy, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.lib.csv_safe import csv_writer
from frontdesk.supplies import selectors, services
from frontdesk.supplies.forms import AdjustForm, CountForm, NewSupplyItemForm, SupplyItemForm
from frontdesk.supplies.models import LogKind


@policy(Action.SUPPLY_VIEW)
def list_view(request: HttpRequest) -> HttpResponse:
    items = list(selectors.supply_items(staff_user(request)))
    return render(request, "supplies/list.html", {"items": items})


@policy(Action.SUPPLY_MANAGE)
def item_new_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = NewSupplyItemForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.supply_item_save(
                context=audit_context(request),
                user=user,
                item=None,
                name=form.cleaned_data["name"],
                unit=form.cleaned_data["unit"],
                par_level=form.cleaned_data["par_level"],
                supplier=form.cleaned_data["supplier"],
                on_hand=form.cleaned_data["on_hand"],
            )
        except services.SupplyRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{item.name} added.")
            return redirect("supplies:list")
    return _item_form(request, form, None)


@policy(Action.SUPPLY_MANAGE)
def item_edit_view(request: HttpRequest, item_id: int) -> HttpResponse:
    user = staff_user(request)
    item = selectors.access_supply_item(user, item_id)
    initial = {
        "name": item.name,
        "unit": item.unit,
        "par_level": item.par_level,
        "supplier": item.supplier,
        "active": item.active,
    }
    form = SupplyItemForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.supply_item_save(
                context=audit_context(request),
                user=user,
                item=item,
                name=form.cleaned_data["name"],
                unit=form.cleaned_data["unit"],
                par_level=form.cleaned_data["par_level"],
                supplier=form.cleaned_data["supplier"],
                active=form.cleaned_data["active"],
            )
        except services.SupplyRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{form.cleaned_data['name']} saved.")
            return redirect("supplies:list")
    return _item_form(request, form, item)


def _item_form(request: HttpRequest, form: forms.Form, item: object) -> HttpResponse:
    status = 400 if request.method == "POST" else 200
    return render(request, "supplies/item_form.html", {"form": form, "item": item}, status=status)


@policy(Action.SUPPLY_COUNT)
def count_view(request: HttpRequest, item_id: int) -> HttpResponse:
    """Count the shelf, or record a delivery, a use or a correction; the item's log below."""
    user = staff_user(request)
    item = selectors.access_supply_item(user, item_id)
    which = request.POST.get("form") if request.method == "POST" else None
    count_form = CountForm(request.POST if which == "count" else None)
    adjust_form = AdjustForm(request.POST if which == "adjust" else None)
    form: forms.Form | None = {"count": count_form, "adjust": adjust_form}.get(which or "")
    if form is not None and form.is_valid():
        try:
            if form is count_form:
                services.supply_count(
                    context=audit_context(request),
                    user=user,
                    item=item,
                    counted=form.cleaned_data["counted"],
                    note=form.cleaned_data["note"],
                )
            else:
                services.supply_adjust(
                    context=audit_context(request),
                    user=user,
                    item=item,
                    kind=LogKind(form.cleaned_data["kind"]),
                    quantity=form.cleaned_data["quantity"],
                    note=form.cleaned_data["note"],
                )
        except services.SupplyRefusedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{item.name}: saved.")
            return redirect("supplies:count", item.pk)
    context = {
        "item": item,
        "count_form": count_form,
        "adjust_form": adjust_form,
        "log": selectors.supply_log(item),
    }
    status = 400 if form is not None else 200
    return render(request, "supplies/count.html", context, status=status)


@policy(Action.SUPPLY_VIEW)
def reorder_view(request: HttpRequest) -> HttpResponse:
    """The reorder list, grouped by supplier, laid out to print."""
    items = selectors.supply_reorder_list(staff_user(request))
    return render(request, "supplies/reorder.html", {"items": items, "now": timezone.now()})


@policy(Action.SUPPLY_VIEW)
def reorder_csv_view(request: HttpRequest) -> HttpResponse:
    """The reorder list as CSV (every cell through `csv_writer`, so none runs as a formula)."""
    items = selectors.supply_reorder_list(staff_user(request))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="reorder-list.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    writer = csv_writer(response)
    writer.writerow(["Supplier", "Item", "Unit", "On hand", "Par level", "To order"])
    writer.writerows(
        [i.supplier, i.name, i.unit, i.on_hand, i.par_level, i.to_order] for i in items
    )
    return response
