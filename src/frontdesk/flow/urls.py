from __future__ import annotations

from django.urls import path

from frontdesk.flow import views, views_display

app_name = "flow"

urlpatterns = [
    path("", views.today_view, name="today"),
    path("check-in/<id:appointment_id>/", views.check_in_view, name="check_in"),
    path("check-out/<id:appointment_id>/", views.check_out_view, name="check_out"),
    path("walk-in/", views.walk_in_view, name="walk_in"),
    path("announce/", views.announce_view, name="announce"),
    path("registrations/complete/", views.registration_complete_view, name="registration_complete"),
    path("board/", views.board_view, name="board"),
    path("board/live/", views.board_fragment_view, name="board_fragment"),
    path("board/events/", views.board_events_view, name="board_events"),
    path("board/move/", views.board_move_view, name="board_move"),
    path("board/call-next/", views.board_call_next_view, name="board_call_next"),
    path("emergency/", views.emergency_banner_view, name="emergency_banner"),
    path(
        "emergency/<id:alert_id>/acknowledge/",
        views.emergency_acknowledge_view,
        name="emergency_acknowledge",
    ),
    path("display/", views_display.display_view, name="display"),
    path("display/live/", views_display.display_live_view, name="display_live"),
    path("displays/", views_display.displays_view, name="displays"),
]
