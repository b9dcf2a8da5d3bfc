"""Sign-in, sign-out and settings."""

from django.urls import path

from kehu.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("settings/pool/", views.pool_settings, name="pool_settings"),
]
