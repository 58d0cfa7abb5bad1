"""The access log's address, `/audit/patients/<id>/`, and its name, `audit:patient_access`, kept
from when the audit app served the page (patients/views_access.py)."""

from __future__ import annotations

from django.urls import path

from frontdesk.patients import views_access

app_name = "audit"

urlpatterns = [
    path("patients/<id:patient_id>/", views_access.patient_access_view, name="patient_access"),
]
