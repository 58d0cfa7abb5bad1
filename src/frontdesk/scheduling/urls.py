from __future__ import annotations

from django.urls import include, path

from frontdesk.scheduling import views, views_calendar, views_series, views_setup
from frontdesk.scheduling.waitlist.views import (
    entry_add_view,
    entry_book_view,
    entry_change_view,
    entry_remove_view,
    slot_offer_view,
    slot_view,
    waitlist_view,
)

app_name = "scheduling"

urlpatterns = [
    path("", views.day_view, name="day"),
    path("setup/", include(views_setup.urlpatterns)),
    path("week/", views_calendar.provider_week_view, name="week"),
    path("week/book/", views_calendar.slot_view, name="slot"),
    path("calendar.ics", views_calendar.feed_view, name="feed"),
    path("calendar-feeds/", views_calendar.feed_list_view, name="feed_list"),
    path("calendar-feeds/<id:provider_id>/", views_calendar.feed_page_view, name="feed_page"),
    path(
        "calendar-feeds/<id:provider_id>/rotate/",
        views_calendar.feed_rotate_view,
        name="feed_rotate",
    ),
    path(
        "calendar-feeds/<id:provider_id>/account/",
        views_calendar.feed_account_view,
        name="feed_account",
    ),
    path("waitlist/", waitlist_view, name="waitlist"),
    path("waitlist/slot/", slot_view, name="waitlist_slot"),
    path("waitlist/slot/offer/", slot_offer_view, name="waitlist_slot_offer"),
    path("waitlist/book/", entry_book_view, name="waitlist_book"),
    path("waitlist/remove/", entry_remove_view, name="waitlist_remove"),
    path("waitlist/<id:entry_id>/", entry_change_view, name="waitlist_change"),
    path("patients/<id:patient_id>/waitlist/", entry_add_view, name="waitlist_add"),
    path("patients/<id:patient_id>/find/", views.find_view, name="find"),
    path("patients/<id:patient_id>/book/", views.book_view, name="book"),
    path("patients/<id:patient_id>/series/", views_series.series_new_view, name="series_new"),
    path(
        "patients/<id:patient_id>/series/book/",
        views_series.series_book_view,
        name="series_book",
    ),
    path("series/<id:series_id>/", views_series.series_view, name="series"),
    path("series/<id:series_id>/resolve/", views_series.series_resolve_view, name="series_resolve"),
    path("series/<id:series_id>/cancel/", views_series.series_cancel_view, name="series_cancel"),
    path("appointments/<id:appointment_id>/", views.appointment_view, name="appointment"),
    path(
        "appointments/<id:appointment_id>/confirm/",
        views.appointment_confirm_view,
        name="appointment_confirm",
    ),
    path(
        "appointments/<id:appointment_id>/cancel/",
        views.appointment_cancel_view,
        name="appointment_cancel",
    ),
    path(
        "appointments/<id:appointment_id>/no-show/",
        views.appointment_no_show_view,
        name="appointment_no_show",
    ),
    path(
        "appointments/<id:appointment_id>/move/",
        views.appointment_move_view,
        name="appointment_move",
    ),
]
