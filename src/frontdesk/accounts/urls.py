from __future__ import annotations

from django.urls import path

from frontdesk.accounts import views, views_staff

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.two_factor_view, name="two_factor"),
    path("two-factor/recovery-codes/", views.recovery_codes_view, name="recovery_codes"),
    path("account/", views.account_view, name="account"),
    path("password/", views.password_change_view, name="password_change"),
    path("staff/", views_staff.staff_list_view, name="staff_list"),
    path("staff/new/", views_staff.staff_add_view, name="staff_add"),
    path("staff/<id:staff_id>/", views_staff.staff_detail_view, name="staff_detail"),
    path("staff/<id:staff_id>/edit/", views_staff.staff_edit_view, name="staff_edit"),
    *[
        path(
            f"staff/<id:staff_id>/{change.replace('_', '-')}/",
            views_staff.staff_change_view,
            {"change": change},
            name=f"staff_{change}",
        )
        for change in views_staff.CHANGES
    ],
    path("staff/locks/", views.locks_view, name="locks"),
    path("invite/<str:token>/", views_staff.staff_invite_view, name="invite"),
    path("staff/locks/unlock/", views.unlock_view, name="unlock"),
    path("session/ping/", views.session_ping_view, name="session_ping"),
]
