from __future__ import annotations

from django.urls import path

from frontdesk.desk import views

app_name = "desk"

urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("live/", views.queue_fragment_view, name="queue_fragment"),
    path("events/", views.queue_events_view, name="queue_events"),
    path("items/<slug:kind>/<id:ref_id>/", views.item_view, name="item"),
]
