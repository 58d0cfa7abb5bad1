from __future__ import annotations

from django.urls import path

from frontdesk.documents import views

app_name = "documents"

# `file_id`: a document (identity documents on the chart already use `document_id`).
urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("patients/<id:patient_id>/new/", views.patient_upload_view, name="patient_upload"),
    path("<id:file_id>/", views.document_view, name="document"),
    path("<id:file_id>/file/", views.document_file_view, name="file"),
    path("<id:file_id>/move/", views.document_move_view, name="move"),
    path("<id:file_id>/content/", views.document_content_view, name="content"),
    path("<id:file_id>/thumbnail/", views.document_thumbnail_view, name="thumbnail"),
]
