from __future__ import annotations

from django.urls import path

from frontdesk.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.search_view, name="search"),
    path("<int:patient_id>/", views.chart_view, name="chart"),
]
