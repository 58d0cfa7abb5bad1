from __future__ import annotations

from django.urls import path

from frontdesk.playbooks import views

app_name = "playbooks"

urlpatterns = [
    path("", views.playbook_list_view, name="list"),
    path("downtime/", views.downtime_view, name="downtime"),
    path("<slug:playbook_key>/panel/", views.playbook_panel_view, name="panel"),
    path("<slug:playbook_key>/edit/", views.playbook_edit_view, name="edit"),
    path("<slug:playbook_key>/reset/", views.playbook_reset_view, name="reset"),
]
