from __future__ import annotations

from django.urls import path

from frontdesk.letters import views

app_name = "letters"

urlpatterns = [
    path("templates/", views.template_list_view, name="templates"),
    path("templates/<slug:letter_kind>/", views.template_edit_view, name="template_edit"),
    path("templates/<slug:letter_kind>/reset/", views.template_reset_view, name="template_reset"),
    path("patients/<id:patient_id>/new/", views.letter_new_view, name="new"),
    path(
        "patients/<id:patient_id>/correspondence/",
        views.correspondence_view,
        name="correspondence",
    ),
]
