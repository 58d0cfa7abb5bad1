from __future__ import annotations

from django.urls import path

from frontdesk.audit import views

app_name = "audit"

urlpatterns = [
    path("patients/<id:patient_id>/", views.patient_access_view, name="patient_access"),
]
