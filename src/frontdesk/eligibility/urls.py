from __future__ import annotations

from django.urls import path

from frontdesk.eligibility import views, views_estimate

app_name = "eligibility"

urlpatterns = [
    path("patients/<id:patient_id>/", views.patient_view, name="patient"),
    path("patients/<id:patient_id>/verified/", views.verified_view, name="verified"),
    path("checks/<id:check_id>/raw/", views.check_raw_view, name="raw"),
    path("coverages/<id:coverage_id>/copay/", views.copay_use_view, name="copay"),
    path("appointments/<id:appointment_id>/verify/", views.verify_now_view, name="verify"),
    path(
        "appointments/<id:appointment_id>/estimate.pdf",
        views_estimate.estimate_pdf_view,
        name="estimate_pdf",
    ),
    path(
        "appointments/<id:appointment_id>/good-faith-estimate/",
        views_estimate.good_faith_estimate_view,
        name="good_faith_estimate",
    ),
    path(
        "appointments/<id:appointment_id>/assistance/",
        views_estimate.assistance_view,
        name="assistance",
    ),
]
