from __future__ import annotations

from django.urls import path

from frontdesk.scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("", views.day_view, name="day"),
    path("patients/<int:patient_id>/find/", views.find_view, name="find"),
    path("patients/<int:patient_id>/book/", views.book_view, name="book"),
    path("appointments/<int:appointment_id>/", views.appointment_view, name="appointment"),
    path(
        "appointments/<int:appointment_id>/<str:action>/",
        views.appointment_action_view,
        name="appointment_action",
    ),
]
