from __future__ import annotations

from django.urls import path

from frontdesk.inquiries import views

app_name = "inquiries"

urlpatterns = [
    path("calls/new/", views.call_new_view, name="call_new"),
    path("calls/<id:call_id>/", views.call_view, name="call"),
    path("red-flags/check/", views.red_flag_check_view, name="red_flag_check"),
    path("patients/<id:patient_id>/disclosure/", views.disclosure_view, name="disclosure"),
    path("patients/<id:patient_id>/contacts/new/", views.contact_new_view, name="contact_new"),
    path(
        "patients/<id:patient_id>/contacts/<id:contact_id>/",
        views.contact_edit_view,
        name="contact_edit",
    ),
    path(
        "patients/<id:patient_id>/contacts/<id:contact_id>/remove/",
        views.contact_remove_view,
        name="contact_remove",
    ),
    path(
        "patients/<id:patient_id>/usual-provider/",
        views.usual_provider_view,
        name="usual_provider",
    ),
    path("callbacks/", views.callbacks_view, name="callbacks"),
    path("callbacks/<id:callback_id>/", views.callback_view, name="callback"),
    path("questions/", views.questions_view, name="questions"),
    path("questions/<id:question_id>/", views.question_view, name="question"),
    path("questions/<id:question_id>/answer/", views.question_answer_view, name="question_answer"),
    path("questions/<id:question_id>/relay/", views.question_relay_view, name="question_relay"),
    path("settings/", views.settings_view, name="settings"),
]
