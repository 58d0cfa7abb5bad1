from __future__ import annotations

from django.urls import path

from frontdesk.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.two_factor_view, name="two_factor"),
    path("two-factor/recovery-codes/", views.recovery_codes_view, name="recovery_codes"),
    path("account/", views.account_view, name="account"),
    path("password/", views.password_change_view, name="password_change"),
    path("staff/locks/", views.locks_view, name="locks"),
    path("staff/locks/unlock/", views.unlock_view, name="unlock"),
    path("session/ping/", views.session_ping_view, name="session_ping"),
]
