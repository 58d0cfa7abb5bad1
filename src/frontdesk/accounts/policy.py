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
    # --- Insurance eligibility (eligibility/) ---
    ELIGIBILITY_VIEW = "eligibility.view"
    ELIGIBILITY_VERIFY = "eligibility.verify"
    ELIGIBILITY_RAW_VIEW = "eligibility.raw_view"

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

    # --- Calls, callbacks, patients' contacts, medical questions (inquiries/) ---
    INQUIRY_LOG = "inquiry.log"
    INQUIRY_VIEW = "inquiry.view"
    CALLBACK_WORK = "inquiry.callback_work"
    CONTACT_MANAGE = "inquiry.contact_manage"
    QUESTION_POOL_VIEW = "inquiry.question_pool_view"
    QUESTION_ANSWER = "inquiry.question_answer"
    QUESTION_RELAY = "inquiry.question_relay"
    INQUIRY_SETTINGS = "inquiry.settings"

    # Complaints and grievances (complaints/), office supplies (supplies/).
    COMPLAINT_LOG = "complaint.log"
    COMPLAINT_VIEW = "complaint.view"
    COMPLAINT_MANAGE = "complaint.manage"
    COMPLAINT_TRENDS = "complaint.trends"
    COMPLAINT_SETTINGS = "complaint.settings"
    SUPPLY_VIEW = "supply.view"
    SUPPLY_COUNT = "supply.count"
    SUPPLY_MANAGE = "supply.manage"

    # Documents filed to patients (documents/) and referrals in and out (referrals/).
    DOCUMENT_VIEW = "document.view"
    DOCUMENT_UPLOAD = "document.upload"
    DOCUMENT_FILE = "document.file"
    REFERRAL_VIEW = "referral.view"
    REFERRAL_MANAGE = "referral.manage"
    REFERRAL_REQUEST = "referral.request"
    REFERRAL_DIRECTORY = "referral.directory"
    # Letters (letters/): the clinic's templates, a letter issued, the correspondence timeline.
    LETTER_TEMPLATE_EDIT = "letter.template_edit"
    LETTER_ISSUE = "letter.issue"
    CORRESPONDENCE_VIEW = "letter.correspondence_view"
    RECORDS_VIEW = "records.view"
    RECORDS_MANAGE = "records.manage"
    RECORDS_SETTINGS = "records.settings"
    DISCLOSURE_ACCOUNTING = "records.disclosure_accounting"

    # The desk queue (desk/): the page, and claim, snooze, hand over an item of it.
    DESK_QUEUE_VIEW = "desk.queue_view"
    DESK_ITEM_ACT = "desk.item_act"

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
    # --- Calls, callbacks, patients' contacts, medical questions (inquiries/) ---
    # The desk answers the phone and the counter; a supervisor covers it. Clinicians take
    # questions from their pool, not calls at the desk.
    Action.INQUIRY_LOG: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # A logged call and a question's thread: the desk that took it, the clinicians who answer
    # it, the supervisor who gets escalations. Billing and administrators have no need.
    Action.INQUIRY_VIEW: frozenset({Role.FRONT_DESK, Role.NURSE, Role.PHYSICIAN, Role.SUPERVISOR}),
    # Calling patients back and logging each attempt: the desk, and the supervisor once the
    # clinic's maximum attempts sends a callback to the supervisors' pool.
    Action.CALLBACK_WORK: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # Who may hear what about a patient: recorded by the desk (with the patient or the papers
    # of a guardian or power of attorney in hand); the supervisor corrects it.
    Action.CONTACT_MANAGE: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # The clinical pools' questions with their deadlines; supervisors see the overdue ones.
    Action.QUESTION_POOL_VIEW: frozenset({Role.NURSE, Role.PHYSICIAN, Role.SUPERVISOR}),
    # Only clinicians answer a medical question (Q10). The front desk NEVER does: advice from
    # the desk is practising without a licence; the service refuses it too.
    Action.QUESTION_ANSWER: frozenset({Role.NURSE, Role.PHYSICIAN}),
    # Reading a clinician's answer to the patient, word for word: the desk's job.
    Action.QUESTION_RELAY: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # The red-flag phrases, deadlines and callback attempts of the clinic: no patient data; the
    # supervisor runs the desk, the administrator sets the clinic up.
    Action.INQUIRY_SETTINGS: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # Complaints and grievances. A patient may complain to anyone who sees patients, so each of
    # them logs one; administrators see no patients. Reading a complaint is the same roles, but
    # complaints/selectors.py narrows it to one's own (logged, owned, reviewed) and supervisors,
    # and never to staff named in it. Supervisors own grievances, answer them, review privacy
    # complaints and watch the trends (counts only). The deadlines and the privacy officer are
    # set-up of the clinic: supervisors and administrators.
    Action.COMPLAINT_LOG: _CLINICAL_AND_DESK,
    Action.COMPLAINT_VIEW: _CLINICAL_AND_DESK,
    Action.COMPLAINT_MANAGE: frozenset({Role.SUPERVISOR}),
    Action.COMPLAINT_TRENDS: frozenset({Role.SUPERVISOR}),
    Action.COMPLAINT_SETTINGS: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # Office supplies hold no patient data: the desk counts them and prints the reorder list;
    # supervisors and administrators keep the item list (par levels, suppliers).
    Action.SUPPLY_VIEW: frozenset({Role.FRONT_DESK, Role.SUPERVISOR, Role.ADMIN}),
    Action.SUPPLY_COUNT: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    Action.SUPPLY_MANAGE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # --- Insurance eligibility (eligibility/) ---
    # A patient's checks and their outcomes: the desk, which checks patients in and takes the
    # co-pay, billing, which works the denials, and supervisors. Clinicians do not need them.
    Action.ELIGIBILITY_VIEW: frozenset({Role.FRONT_DESK, Role.BILLING, Role.SUPERVISOR}),
    # Asking the payer now (at check-in) and closing a "verify later" item: the same roles.
    Action.ELIGIBILITY_VERIFY: frozenset({Role.FRONT_DESK, Role.BILLING, Role.SUPERVISOR}),
    # The raw 270/271 as exchanged, for working out a payer's dispute: billing and supervisors.
    Action.ELIGIBILITY_RAW_VIEW: frozenset({Role.BILLING, Role.SUPERVISOR}),
    # --- Documents and referrals ---
    # A patient's filed documents (scans, letters, outside records, cards): whoever may open
    # the chart, since they are part of it; billing needs the cards and authorisations.
    Action.DOCUMENT_VIEW: _CLINICAL_AND_DESK,
    # Adding a document to a chart: the desk scans, nurses file outside records they receive.
    Action.DOCUMENT_UPLOAD: frozenset({Role.FRONT_DESK, Role.NURSE, Role.SUPERVISOR}),
    # The filing inbox holds documents not yet known to be whose: the desk files them (and moves
    # a misfiled one); the supervisor answers for it. Nobody else needs unfiled PHI.
    Action.DOCUMENT_FILE: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # Referrals are part of the patient's care: whoever may open the chart reads them (billing:
    # the authorisation number and visits allowed).
    Action.REFERRAL_VIEW: _CLINICAL_AND_DESK,
    # The desk registers incoming referrals, records the clinician's decision, books, sends the
    # packet out and closes the loop; the supervisor answers for the deadlines.
    Action.REFERRAL_MANAGE: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # Asking for a specialist referral is a clinical decision: physicians (and supervisors).
    Action.REFERRAL_REQUEST: frozenset({Role.PHYSICIAN, Role.SUPERVISOR}),
    # The directory of practices the clinic refers to: no patient data; kept by the desk, the
    # supervisor and the administrator who sets the clinic up.
    Action.REFERRAL_DIRECTORY: frozenset({Role.FRONT_DESK, Role.SUPERVISOR, Role.ADMIN}),
    # --- Letters ---
    # The clinic's letter templates hold no patient data (the preview fills them with sample
    # values): the supervisor, who answers for what the clinic writes, and the administrator
    # who sets the clinic up.
    Action.LETTER_TEMPLATE_EDIT: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # Writing to a patient (or to their referrer about them) is the desk's work.
    Action.LETTER_ISSUE: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # What was written, sent and said to the patient is part of the chart: whoever may open it.
    Action.CORRESPONDENCE_VIEW: _CLINICAL_AND_DESK,
    # --- Requests for records (records/) ---
    # Release of information is the desk's work, answered for by the supervisor. Physicians
    # read the requests too: a denial on the ground of harm is a licensed professional's
    # judgement (45 CFR 164.524(a)(3)). Billing and nurses have no part in it.
    Action.RECORDS_VIEW: frozenset({Role.FRONT_DESK, Role.PHYSICIAN, Role.SUPERVISOR}),
    Action.RECORDS_MANAGE: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # The fee schedule and warning days: clinic set-up, no patient data.
    Action.RECORDS_SETTINGS: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # The accounting of disclosures is printed for the patient who asks at the desk.
    Action.DISCLOSURE_ACCOUNTING: frozenset({Role.FRONT_DESK, Role.SUPERVISOR}),
    # The desk queue. Front desk and supervisors run the desk: they see all its work. Nurses,
    # physicians and billing see only their pools' work and what is handed to them (the
    # selector narrows it: desk/selectors.py SEES_WHOLE_DESK), since a question routed to
    # nurse triage or a bill to explain is theirs to act on; each kind is further limited to
    # the roles its source names. Administrators set the clinic up and work on no patient's
    # request, so they have no desk queue (minimum necessary).
    Action.DESK_QUEUE_VIEW: _CLINICAL_AND_DESK,
    Action.DESK_ITEM_ACT: _CLINICAL_AND_DESK,
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
