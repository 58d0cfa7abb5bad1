"""Every URL of Frontdesk. Each view declares its policy action (see accounts/policy.py)."""

from __future__ import annotations

from django.urls import include, path, register_converter

from frontdesk.lib.ids import IdConverter

# `<id:...>` in every app's patterns: registered before any of them is imported (below), since
# Django reads a pattern's converters when the pattern is built.
register_converter(IdConverter, "id")

from frontdesk.accounts import views as account_views  # noqa: E402
from frontdesk.messaging import views_waitlist_offer  # noqa: E402
from frontdesk.patients import views_start  # noqa: E402

urlpatterns = [
    path("", views_start.home_view, name="home"),
    path("healthz", account_views.healthz_view, name="healthz"),
    path("favicon.ico", account_views.favicon_view, name="favicon"),
    path("accounts/", include("frontdesk.accounts.urls")),
    path("patients/", include("frontdesk.patients.urls")),
    path("audit/", include("frontdesk.patients.urls_access")),
    path("schedule/", include("frontdesk.scheduling.urls")),
    # Patients' signed links from reminders (no sign-in; the token is the credential).
    path("p/", include("frontdesk.messaging.urls")),
    # Messages the outbox could not send, for administrators and supervisors.
    path("messaging/", include("frontdesk.messaging.urls_staff")),
    path("flow/", include("frontdesk.flow.urls")),
    path("desk/", include("frontdesk.desk.urls")),
    path("playbooks/", include("frontdesk.playbooks.urls")),
    path("billing/", include("frontdesk.billing.urls")),
    # Calls, callbacks, patients' contacts and medical questions for clinicians.
    path("inquiries/", include("frontdesk.inquiries.urls")),
    path("complaints/", include("frontdesk.complaints.urls")),
    path("supplies/", include("frontdesk.supplies.urls")),
    path("eligibility/", include("frontdesk.eligibility.urls")),
    path("documents/", include("frontdesk.documents.urls")),
    path("referrals/", include("frontdesk.referrals.urls")),
    path("letters/", include("frontdesk.letters.urls")),
    # Requests for records (release of information) and the accounting of disclosures.
    path("records/", include("frontdesk.records.urls")),
    # What the demo's patients would have received (404 outside demo mode).
    path("demo/", include("frontdesk.demo.urls")),
    # A patient's signed link to a waitlist offer; short, since it also goes by text message.
    path("w/<str:token>/", views_waitlist_offer.offer_view, name="waitlist_offer"),
]

handler400 = "frontdesk.errors.bad_request"
handler403 = "frontdesk.errors.permission_denied"
handler404 = "frontdesk.errors.page_not_found"
handler500 = "frontdesk.errors.server_error"
