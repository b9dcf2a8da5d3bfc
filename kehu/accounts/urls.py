"""Sign-in, sign-out, settings and notifications."""

from django.urls import path

from kehu.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("settings/pool/", views.pool_settings, name="pool_settings"),
    path("accounts/notifications/", views.notification_list, name="notifications"),
    path(
        "accounts/notifications/read/",
        views.read_all_notifications,
        name="read_all_notifications",
    ),
    path(
        "accounts/notifications/<int:notification_id>/",
        views.open_notification,
        name="open_notification",
    ),
    path(
        "accounts/notifications/<int:notification_id>/read/",
        views.read_notification,
        name="read_notification",
    ),
]
