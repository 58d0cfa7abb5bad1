"""The administrators' staff pages: the clinic's accounts, added, changed, locked, switched off.

Each change is one audited service in accounts/services.py; a change that would leave the
clinic without an administrator, or an administrator locking themselves out, is refused there
(StaffChangeRefusedError) and its message shown here. Staff of another clinic are not found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from frontdesk.accounts import selectors, services
from frontdesk.accounts.forms import StaffForm
from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.accounts.roles import Role
from frontdesk.audit.services import AuditContext, audit_context

# The temporary password of the account just added or reset, shown once on its page.
TEMPORARY_PASSWORD_KEY = "frontdesk_staff_temporary_password"  # noqa: S105 (a session key)


def _name(member: User) -> str:
    return member.get_full_name() or member.get_username()


@policy(Action.STAFF_VIEW)
@never_cache
def staff_list_view(request: HttpRequest) -> HttpResponse:
    clinic_id = staff_user(request).clinic_id
    context = {"staff": selectors.staff_list(clinic_id=clinic_id)}
    return render(request, "accounts/staff_list.html", context)


@policy(Action.STAFF_MANAGE)
@never_cache
def staff_add_view(request: HttpRequest) -> HttpResponse:
    clinic = staff_clinic(staff_user(request))
    form = StaffForm(request.POST if request.method == "POST" else None, clinic_id=clinic.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member, password = services.staff_add(
                context=audit_context(request),
                clinic=clinic,
                username=data["username"],
                role=Role(data["role"]),
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                location=data["location"],
            )
        except (IntegrityError, ValidationError):  # the same username, added a moment ago
            form.add_error("username", "That username is taken. Choose another.")
        else:
            request.session[TEMPORARY_PASSWORD_KEY] = {"staff": member.pk, "password": password}
            messages.success(request, f"Added {_name(member)} as {member.role_label}.")
            return redirect("accounts:staff_detail", staff_id=member.pk)
    status = 400 if form.errors else 200
    return render(request, "accounts/staff_form.html", {"form": form}, status=status)


@policy(Action.STAFF_VIEW)
@never_cache
def staff_detail_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    user = staff_user(request)
    member = selectors.staff_of_clinic(clinic_id=user.clinic_id, staff_id=staff_id)
    shown = request.session.get(TEMPORARY_PASSWORD_KEY)
    password = None
    if isinstance(shown, dict) and shown.get("staff") == member.pk:
        password = str(shown.get("password", ""))
        del request.session[TEMPORARY_PASSWORD_KEY]  # once: a reload does not show it again
    context = {"member": member, "temporary_password": password, "is_self": member.pk == user.pk}
    return render(request, "accounts/staff_detail.html", context)


@policy(Action.STAFF_MANAGE)
@never_cache
def staff_edit_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    user = staff_user(request)
    member = selectors.staff_of_clinic(clinic_id=user.clinic_id, staff_id=staff_id)
    initial = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "role": member.role,
        "location": member.location_id,
    }
    data = request.POST if request.method == "POST" else None
    form = StaffForm(data, clinic_id=user.clinic_id, member=member, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_update(
                context=audit_context(request),
                actor=user,
                member=member,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                email=form.cleaned_data["email"],
                role=Role(form.cleaned_data["role"]),
                location=form.cleaned_data["location"],
            )
        except services.StaffChangeRefusedError as refusal:
            form.add_error("role", str(refusal))
        else:
            messages.success(request, f"Saved the changes to {_name(member)}.")
            return redirect("accounts:staff_detail", staff_id=member.pk)
    status = 400 if form.errors else 200
    context = {"form": form, "member": member}
    return render(request, "accounts/staff_form.html", context, status=status)


@dataclass(frozen=True)
class Change:
    """One change an administrator confirms on its own page before it is made."""

    title: str  # "Lock {name}'s account"
    explanation: str  # what happens, in words
    button: str
    done: str  # the message afterwards
    destructive: bool
    run: Callable[..., Any]


CHANGES: dict[str, Change] = {
    "password": Change(
        "Reset {name}'s password",
        "{name} gets a temporary password, shown to you once, to give them in person. Their "
        "current password stops working, they are signed out everywhere, and they must choose "
        "a new password when they next sign in.",
        "Reset the password",
        "{name} has a temporary password now.",
        True,
        services.staff_password_reset,
    ),
    "two_step": Change(
        "Reset {name}'s two-step sign-in",
        "Their authenticator app and recovery codes stop working. When they next sign in, "
        "they set up an authenticator app again. Do this when they lost their phone.",
        "Reset two-step sign-in",
        "{name} will set up two-step sign-in again when they next sign in.",
        True,
        services.staff_two_step_reset,
    ),
    "lock": Change(
        "Lock {name}'s account",
        "{name} is signed out at once and cannot sign in until an administrator unlocks the "
        "account. Use this when an account may be in the wrong hands.",
        "Lock the account",
        "Locked {name}'s account: they are signed out and cannot sign in.",
        True,
        services.staff_lock,
    ),
    "unlock": Change(
        "Unlock {name}'s account",
        "{name} can sign in again at once; any wait after failed sign-in attempts is lifted too.",
        "Unlock the account",
        "Unlocked {name}'s account: they can sign in now.",
        False,
        services.staff_unlock,
    ),
    "deactivate": Change(
        "Deactivate {name}'s account",
        "{name} is signed out at once and can no longer sign in. The account is kept, not "
        "deleted, so the audit trail still names them; it can be reactivated.",
        "Deactivate the account",
        "Deactivated {name}'s account.",
        True,
        services.staff_deactivate,
    ),
    "reactivate": Change(
        "Reactivate {name}'s account",
        "{name} can sign in again with their password (reset it if they have forgotten it).",
        "Reactivate the account",
        "Reactivated {name}'s account.",
        False,
        services.staff_reactivate,
    ),
}


@policy(Action.STAFF_MANAGE)
@never_cache
def staff_change_view(request: HttpRequest, staff_id: int, change: str) -> HttpResponse:
    """GET: the confirmation page; POST: the change."""
    user = staff_user(request)
    member = selectors.staff_of_clinic(clinic_id=user.clinic_id, staff_id=staff_id)
    step = CHANGES[change]
    name = _name(member)
    if request.method == "POST":
        context: AuditContext = audit_context(request)
        try:
            result = step.run(context=context, actor=user, member=member)
        except services.StaffChangeRefusedError as refusal:
            messages.error(request, str(refusal))
        else:
            if isinstance(result, str):  # a temporary password, shown once on the next page
                request.session[TEMPORARY_PASSWORD_KEY] = {"staff": member.pk, "password": result}
            messages.success(request, step.done.format(name=name))
        return redirect("accounts:staff_detail", staff_id=member.pk)
    page = {
        "member": member,
        "title": step.title.format(name=name),
        "explanation": step.explanation.format(name=name),
        "button": step.button,
        "destructive": step.destructive,
        "cancel_url": reverse("accounts:staff_detail", kwargs={"staff_id": member.pk}),
    }
    return render(request, "accounts/staff_confirm.html", page)
