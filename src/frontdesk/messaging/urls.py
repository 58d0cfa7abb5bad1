from __future__ import annotations

from django.urls import path

from frontdesk.messaging import views

app_name = "messaging"

urlpatterns = [
    path("appointment/<str:token>/", views.appointment_link_view, name="appointment"),
]
