from __future__ import annotations

from django.urls import path

from frontdesk.records import views

app_name = "records"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("new/", views.new_view, name="new"),
    path("settings/", views.settings_view, name="settings"),
    path("<id:request_id>/", views.request_view, name="request"),
    path("<id:request_id>/<slug:action>/", views.step_view, name="step"),
    path("patients/<id:patient_id>/disclosures.pdf", views.accounting_view, name="accounting"),
]
