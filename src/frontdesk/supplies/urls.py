from __future__ import annotations

from django.urls import path

from frontdesk.supplies import views

app_name = "supplies"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("new/", views.item_new_view, name="new"),
    path("reorder/", views.reorder_view, name="reorder"),
    path("reorder.csv", views.reorder_csv_view, name="reorder_csv"),
    path("<id:item_id>/", views.count_view, name="count"),
    path("<id:item_id>/edit/", views.item_edit_view, name="edit"),
]
