from __future__ import annotations

from django.urls import path

from frontdesk.referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("new/", views.new_view, name="new"),
    path("<id:referral_id>/", views.referral_view, name="referral"),
    path("<id:referral_id>/<slug:action>/", views.step_view, name="step"),
    path("patients/<id:patient_id>/request/", views.request_view, name="request"),
    path("target/", views.target_view, name="target"),
    path("practices/", views.practices_view, name="practices"),
    path("practices/<id:practice_id>/", views.practices_view, name="practice"),
]
