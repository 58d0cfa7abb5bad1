"""The administrators' staff pages: the clinic's accounts, added, changed, locked, switched off.

Each change is one audited service in accounts/services.py; a change that would leave the
clinic without an administrator, or an administrator locking themselves out, is refused there
(StaffChangeRefusedError) and its message shown here. Staff of another clinic are not found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from frontdesk.accounts import selectors, services
from frontdesk.accounts.forms import InvitePasswordForm, StaffForm
from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, policy, public, staff_clinic, staff_user
from frontdesk.accounts.roles import Role
from frontdesk.audit.services import AuditContext, audit_context
from frontdesk.lib.links import LinkError, LinkExpiredError

# The temporary password of the account just added or reset, shown once on its page.
TEMPORARY_PASSWORD_KEY = "frontdesk_staff_temporary_password"  # noqa: S105 (a session key)


def _name(member: User) -> str:
    return member.get_full_name() or member.get_username()


def _show_once(request: HttpRequest, member: User, kind: str, secret: str) -> None:
    """Keep a temporary password or an invitation's token for the member's page to show once."""
    request.session[TEMPORARY_PASSWORD_KEY] = {"staff": member.pk, kind: secret}


def _invite_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("accounts:invite", kwargs={"token": token}))


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
                by_invite=data["access"] == "invite",
            )
        except (IntegrityError, ValidationError):  # the same username, added a moment ago
            form.add_error("username", "That username is taken. Choose another.")
        else:
            kind = "link" if data["access"] == "invite" else "password"
            _show_once(request, member, kind, password)
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
    password = link = None
    if isinstance(shown, dict) and shown.get("staff") == member.pk:
        password = shown.get("password")
        link = _invite_url(request, str(shown["link"])) if shown.get("link") else None
        del request.session[TEMPORARY_PASSWORD_KEY]  # once: a reload does not show it again
    context = {
        "member": member,
        "temporary_password": password,
        "invite_link": link,
        "invite_hours": int(settings.STAFF_INVITE_MAX_AGE.total_seconds() // 3600),
        "is_self": member.pk == user.pk,
    }
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
    shows: str = ""  # "password" or "link": what the change returns, shown once


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
        "password",
    ),
    "invite": Change(
        "Send {name} a new invitation",
        "You get a new invitation link, shown once, to send them; earlier links stop working. "
        "With it they set their own password.",
        "Make a new invitation link",
        "Made a new invitation link for {name}.",
        False,
        services.staff_invite_renew,
        "link",
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
            if step.shows:  # a temporary password or a link, shown once on the next page
                _show_once(request, member, step.shows, str(result))
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


@public
@sensitive_post_parameters("new_password1", "new_password2")
@csrf_protect
@never_cache
def staff_invite_view(request: HttpRequest, token: str) -> HttpResponse:
    """An invited member of staff sets their own password, once, before the link expires."""
    try:
        invite = services.staff_invite_open(token=token)
    except LinkError as problem:
        expired = isinstance(problem, LinkExpiredError)
        context = {"problem": str(problem), "expired": expired}
        return render(request, "accounts/invite_closed.html", context, status=410)
    form = InvitePasswordForm(invite.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_invite_accept(
                context=audit_context(request),
                invite=invite,
                password=form.cleaned_data["new_password1"],
            )
        except LinkError as problem:  # the same link, used a moment ago in another tab
            context = {"problem": str(problem)}
            return render(request, "accounts/invite_closed.html", context, status=410)
        return redirect(f"{reverse('accounts:login')}?password_set=1")
    context = {"form": form, "member": invite.user}
    status = 400 if form.errors else 200
    return render(request, "accounts/invite.html", context, status=status)
