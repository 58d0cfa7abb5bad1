"""Playbook pages: every playbook for staff, the edit and reset for editors, the downtime pack."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from frontdesk.accounts.policy import Action, policy, role_may, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.playbooks import services
from frontdesk.playbooks.forms import PlaybookForm
from frontdesk.playbooks.models import PlaybookKey
from frontdesk.playbooks.selectors import playbooks_of_clinic

# Rows on the printed check-in sheet: one page, filled in by hand.
PAPER_ROWS = 18


def _key(playbook_key: str) -> str:
    if playbook_key not in PlaybookKey.values:
        raise Http404("There is no playbook of that name.")
    return playbook_key


@policy(Action.PLAYBOOK_VIEW)
def playbook_list_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    shown = playbooks_of_clinic(staff_clinic(user).pk)
    context = {
        "playbooks": list(shown.values()),
        "can_edit": role_may(user.role, Action.PLAYBOOK_EDIT),
    }
    return render(request, "playbooks/list.html", context)


@policy(Action.PLAYBOOK_VIEW)
def playbook_panel_view(request: HttpRequest, playbook_key: str) -> HttpResponse:
    """The body of a folded playbook panel, fetched when it is opened."""
    user = staff_user(request)
    shown = playbooks_of_clinic(staff_clinic(user).pk)[_key(playbook_key)]
    context = {"playbook": shown, "can_edit": role_may(user.role, Action.PLAYBOOK_EDIT)}
    return render(request, "playbooks/_panel_body.html", context)


@policy(Action.PLAYBOOK_EDIT)
def playbook_edit_view(request: HttpRequest, playbook_key: str) -> HttpResponse:
    user = staff_user(request)
    clinic = staff_clinic(user)
    key = _key(playbook_key)
    context = audit_context(request)
    conflict = False
    if request.method == "POST":
        form = PlaybookForm(request.POST)
        if form.is_valid():
            try:
                _saved, changed = services.playbook_save(
                    context=context,
                    user=user,
                    clinic=clinic,
                    key=key,
                    title=form.cleaned_data["title"],
                    steps=form.cleaned_data["steps"],
                    version=form.cleaned_data["version"],
                )
            except services.PlaybookChangedError as exc:
                form.add_error(None, exc.message)
                conflict = True
            except services.PlaybookRefusedError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "Saved." if changed else "Nothing was changed.")
                return redirect(reverse("playbooks:list") + f"#playbook-{key}")
    else:
        # Opening the editor changes nothing; a save stores the defaults it builds on.
        form = None
    current = playbooks_of_clinic(clinic.pk)[key]
    if form is None:
        form = PlaybookForm(
            initial={"title": current.title, "steps": current.steps, "version": current.version}
        )
    elif conflict:
        # The next save is a deliberate replacement of the text shown beside the form.
        data = request.POST.copy()
        data["version"] = str(current.version)
        form.data = data
    page = {"form": form, "current": current, "conflict": conflict}
    return render(request, "playbooks/edit.html", page)


@policy(Action.PLAYBOOK_EDIT)
@require_POST
def playbook_reset_view(request: HttpRequest, playbook_key: str) -> HttpResponse:
    user = staff_user(request)
    key = _key(playbook_key)
    changed = services.playbook_reset(
        context=audit_context(request), user=user, clinic=staff_clinic(user), key=key
    )
    if changed:
        messages.success(
            request, "The default text is back. The previous text is kept in the audit trail."
        )
    else:
        messages.info(request, "This playbook already has the default text.")
    return redirect("playbooks:edit", playbook_key=key)


@policy(Action.PLAYBOOK_VIEW)
def downtime_view(request: HttpRequest) -> HttpResponse:
    """The system-outage procedure with blank paper forms, to print before an outage."""
    user = staff_user(request)
    clinic = staff_clinic(user)
    outage = playbooks_of_clinic(clinic.pk)[PlaybookKey.SYSTEM_OUTAGE]
    context = {"outage": outage, "rows": range(1, PAPER_ROWS + 1), "clinic": clinic}
    return render(request, "playbooks/downtime.html", context)
