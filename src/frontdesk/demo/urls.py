"""The demo's pages (demo mode only)."""

from __future__ import annotations

from django.urls import path

from frontdesk.demo import views

app_name = "demo"

urlpatterns = [
    path("outbox/", views.demo_outbox_view, name="outbox"),
]
