from __future__ import annotations

from django.urls import path

from frontdesk.complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("new/", views.new_view, name="new"),
    path("trends/", views.trends_view, name="trends"),
    path("settings/", views.settings_view, name="settings"),
    path("<id:complaint_id>/", views.detail_view, name="detail"),
    path("<id:complaint_id>/acknowledge/", views.acknowledge_view, name="acknowledge"),
    path("<id:complaint_id>/notes/", views.note_view, name="note"),
    path("<id:complaint_id>/owner/", views.assign_view, name="assign"),
    path("<id:complaint_id>/privacy-review/", views.privacy_review_view, name="privacy_review"),
    path("<id:complaint_id>/respond/", views.respond_view, name="respond"),
    path("<id:complaint_id>/letter.pdf", views.letter_view, name="letter"),
]
