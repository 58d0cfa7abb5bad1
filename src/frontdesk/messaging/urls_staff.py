"""Staff pages of messaging: the outbox's messages that need a person."""

from __future__ import annotations

from django.urls import path

from frontdesk.messaging import views_outbox

app_name = "outbox"

urlpatterns = [
    path("outbox/", views_outbox.outbox_list_view, name="list"),
    path("outbox/<id:outbox_id>/retry/", views_outbox.outbox_retry_view, name="retry"),
    path("outbox/<id:outbox_id>/cancel/", views_outbox.outbox_cancel_view, name="cancel"),
]
