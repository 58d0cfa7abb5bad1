"""The one declared access policy: which role may perform which action.

Every view declares its action with `@policy(Action.X)` (or `@public`); the URL-by-role test in
`tests/test_policy.py` walks every URL pattern and fails when a view declares nothing, so a new
page cannot ship unguarded. Patient-level checks (same clinic, restricted records) live in the
`access_*` selectors, which call `role_may` first.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.clinic.models import Clinic


class Action(StrEnum):
    HOME = "home"
    ACCOUNT_SELF = "account.self"
    PATIENT_SEARCH = "patient.search"
    PATIENT_VIEW = "patient.view"
    PATIENT_REGISTER = "patient.register"
    PATIENT_MERGE = "patient.merge"
    PATIENT_DUPLICATES_REPORT = "patient.duplicates_report"
    COVERAGE_EDIT = "coverage.edit"
    PAYER_MANAGE = "payer.manage"
    AUDIT_PATIENT_ACCESS = "audit.patient_access"
    NOTICE_ACKNOWLEDGE = "notice.acknowledge"
    FLOW_TODAY = "flow.today"
    FLOW_CHECK_IN = "flow.check_in"
    FLOW_BOARD = "flow.board"
    FLOW_DISPLAY_MANAGE = "flow.display_manage"
    FLOW_EMERGENCY_VIEW = "flow.emergency_view"
    FLOW_EMERGENCY_ACKNOWLEDGE = "flow.emergency_acknowledge"
    APPOINTMENT_VIEW = "appointment.view"
    APPOINTMENT_BOOK = "appointment.book"
    APPOINTMENT_OVERBOOK = "appointment.overbook"
    # What the desk does to a booked appointment, one action per page.
    APPOINTMENT_CONFIRM = "appointment.confirm"
    APPOINTMENT_CANCEL = "appointment.cancel"
    APPOINTMENT_NO_SHOW = "appointment.no_show"
    APPOINTMENT_MOVE = "appointment.move"
    SCHEDULE_SETUP = "schedule.setup"
    CALENDAR_FEED_VIEW = "calendar_feed.view"
    CALENDAR_FEED_MANAGE = "calendar_feed.manage"
    PLAYBOOK_VIEW = "playbook.view"
    PLAYBOOK_EDIT = "playbook.edit"
    BILLING_VIEW = "billing.view"
    BILLING_POST = "billing.post"

    # Charges and adjustment credits (write-offs) on a patient's account.
    BILLING_ADJUST = "billing.adjust"

    # Sign-in throttles and locks.
    ACCOUNT_UNLOCK = "account.unlock"
    # The clinic's staff accounts: the list, and adding, changing, locking, deactivating.
    STAFF_VIEW = "staff.view"
    STAFF_MANAGE = "staff.manage"
    # Messages to patients the outbox could not send (messaging/outbox.py).
    OUTBOX_VIEW = "outbox.view"
    OUTBOX_MANAGE = "outbox.manage"
    # The demo outbox (demo mode only): what patients would have received.
    DEMO_OUTBOX_VIEW = "demo.outbox_view"

    # Cash drawers and the end of the day (billing/drawer.py, billing/reversals.py).
    DRAWER_USE = "drawer.use"
    DRAWER_OVERSEE = "drawer.oversee"
    DRAWER_REVIEW = "drawer.review"
    BILLING_REVERSE = "billing.reverse"


PUBLIC = "public"

_EVERY_ROLE = frozenset(Role)
_CLINICAL_AND_DESK = frozenset(
    {Role.FRONT_DESK, Role.NURSE, Role.PHYSICIAN, Role.BILLING, Role.SUPERVISOR}
)

# Administrators set the clinic up; they do not need patients' records (minimum necessary).
POLICY: dict[Action, frozenset[Role]] = {
    Action.HOME: _EVERY_ROLE,
    Action.ACCOUNT_SELF: _EVERY_ROLE,
    Action.PATIENT_SEARCH: _CLINICAL_AND_DESK,
    Action.PATIENT_VIEW: _CLINICAL_AND_DESK,
    Action.PATIENT_REGISTER: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    Action.PATIENT_MERGE: frozenset({Role.SUPERVISOR}),
    # The likely duplicates of the clinic, one click from merging them: for those who merge.
    Action.PATIENT_DUPLICATES_REPORT: frozenset({Role.SUPERVISOR}),
    Action.COVERAGE_EDIT: frozenset({Role.FRONT_DESK, Role.BILLING, Role.SUPERVISOR}),
    # The payer table holds no PHI; administrators keep it, billing knows the payers.
    Action.PAYER_MANAGE: frozenset({Role.ADMIN, Role.BILLING}),
    Action.AUDIT_PATIENT_ACCESS: frozenset({Role.SUPERVISOR}),
    Action.NOTICE_ACKNOWLEDGE: frozenset({Role.SUPERVISOR}),
    # The day's arrivals and the queue: the desk checks patients in; clinical staff call them
    # through the flow board (call next, in room, with provider, done).
    Action.FLOW_TODAY: frozenset({Role.FRONT_DESK, Role.NURSE, Role.PHYSICIAN, Role.SUPERVISOR}),
    Action.FLOW_CHECK_IN: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    Action.FLOW_BOARD: frozenset({Role.FRONT_DESK, Role.NURSE, Role.PHYSICIAN, Role.SUPERVISOR}),
    # An emergency at the desk alerts the clinicians, the desk (who is going?) and the
    # supervisor (escalations); only a nurse or a physician can answer "I am going".
    Action.FLOW_EMERGENCY_VIEW: frozenset(
        {Role.FRONT_DESK, Role.NURSE, Role.PHYSICIAN, Role.SUPERVISOR}
    ),
    Action.FLOW_EMERGENCY_ACKNOWLEDGE: frozenset({Role.NURSE, Role.PHYSICIAN}),
    # Waiting-room screens show ticket numbers only; their links are set up like equipment.
    Action.FLOW_DISPLAY_MANAGE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Action.APPOINTMENT_VIEW: _CLINICAL_AND_DESK,
    Action.APPOINTMENT_BOOK: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    Action.APPOINTMENT_OVERBOOK: frozenset({Role.SUPERVISOR}),
    Action.APPOINTMENT_CONFIRM: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    Action.APPOINTMENT_CANCEL: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    Action.APPOINTMENT_NO_SHOW: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    Action.APPOINTMENT_MOVE: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # Appointment types, weekly hours, blocks, leave and holidays: no patient data; the
    # supervisor runs the day and enters leave and closures, the administrator sets the clinic up.
    Action.SCHEDULE_SETUP: frozenset({Role.ADMIN, Role.SUPERVISOR}),
    # Providers see their own feed link (calendar_feed.feed_viewer_may); it holds no patient data.
    Action.CALENDAR_FEED_VIEW: frozenset({Role.PHYSICIAN, Role.NURSE, Role.ADMIN}),
    Action.CALENDAR_FEED_MANAGE: frozenset({Role.ADMIN}),
    # The desk's standard procedures hold no patient data: every member of staff reads them;
    # the administrator and the supervisor, who run the desk, write them.
    Action.PLAYBOOK_VIEW: _EVERY_ROLE,
    Action.PLAYBOOK_EDIT: frozenset({Role.ADMIN, Role.SUPERVISOR}),
    # Patient accounts: the desk takes payments and prints receipts, billing keeps the accounts;
    # clinical staff do not need a patient's money matters (minimum necessary).
    Action.BILLING_VIEW: frozenset({Role.FRONT_DESK, Role.BILLING, Role.SUPERVISOR}),
    Action.BILLING_POST: frozenset({Role.FRONT_DESK, Role.BILLING, Role.SUPERVISOR}),
    # Charges and write-offs change what the patient owes: billing keeps the accounts and the
    # supervisor answers for them; the desk only takes payments (BILLING_POST).
    Action.BILLING_ADJUST: frozenset({Role.BILLING, Role.SUPERVISOR}),
    # Sign-in throttles and locks: administrators look after staff accounts. The page shows
    # usernames and network addresses, no patient data.
    Action.ACCOUNT_UNLOCK: frozenset({Role.ADMIN}),
    # Staff accounts of the administrator's own clinic (accounts/views_staff.py); no patient
    # data. Supervisors run the day, not the accounts: who may sign in is the administrator's.
    Action.STAFF_VIEW: frozenset({Role.ADMIN}),
    Action.STAFF_MANAGE: frozenset({Role.ADMIN}),
    # Messages the outbox parked (refused, or failing past the limit): administrators see to
    # the mail server and provider, supervisors to the patients; both may send again or cancel.
    # Patients' names are shown only to roles that may see patients (PATIENT_VIEW).
    Action.OUTBOX_VIEW: frozenset({Role.ADMIN, Role.SUPERVISOR}),
    Action.OUTBOX_MANAGE: frozenset({Role.ADMIN, Role.SUPERVISOR}),
    # The demo outbox shows the messages' words, which are about patients' visits: the roles
    # that see patients (PATIENT_VIEW), so administrators do not.
    Action.DEMO_OUTBOX_VIEW: _CLINICAL_AND_DESK,
    # Cash drawers and the end of the day. Whoever takes payments (BILLING_POST) opens and
    # closes their own drawer; the pages show amounts and officers, no patient data.
    Action.DRAWER_USE: frozenset({Role.FRONT_DESK, Role.BILLING, Role.SUPERVISOR}),
    # The day's drawers and the deposit report: billing reconciles the bank, the supervisor
    # answers for the drawers.
    Action.DRAWER_OVERSEE: frozenset({Role.BILLING, Role.SUPERVISOR}),
    # Reviewing a variance beyond tolerance is the supervisor's (the escalation of a drawer).
    Action.DRAWER_REVIEW: frozenset({Role.SUPERVISOR}),
    # Voids and refunds give money back: billing and supervisors, as write-offs.
    Action.BILLING_REVERSE: frozenset({Role.BILLING, Role.SUPERVISOR}),
}


def role_may(role: str, action: Action) -> bool:
    return role in POLICY[action]


ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


def policy(action: Action) -> Callable[[ViewFunc], ViewFunc]:
    """Guard a view: signed in, and the user's role may perform `action`."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not role_may(getattr(user, "role", ""), action):
                return render(request, "403.html", {"action": action}, status=403)
            return view(request, *args, **kwargs)

        wrapper.policy_action = action  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def staff_user(request: HttpRequest) -> User:
    """The signed-in member of staff (views behind @policy always have one)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def staff_clinic(user: User) -> Clinic:
    """The clinic a member of staff works for; an account without one may not touch records."""
    if user.clinic is None:
        raise PermissionDenied
    return user.clinic


def public(view: ViewFunc) -> ViewFunc:
    """Declare a view open to anyone (login page, health check, patients' signed links)."""
    view.policy_action = PUBLIC  # type: ignore[attr-defined]
    return view
