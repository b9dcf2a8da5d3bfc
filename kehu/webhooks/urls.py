"""Webhook pages (设置 → Webhooks), mounted at /settings/webhooks/."""

from django.urls import path

from kehu.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.subscription_list, name="list"),
    path("new/", views.subscription_create, name="create"),
    path("<int:subscription_id>/", views.delivery_log, name="deliveries"),
    path("<int:subscription_id>/edit/", views.subscription_edit, name="edit"),
    path("<int:subscription_id>/secret/", views.secret_once, name="secret"),
    path("<int:subscription_id>/rotate/", views.rotate, name="rotate"),
    path("<int:subscription_id>/delete/", views.delete, name="delete"),
    path("<int:subscription_id>/test/", views.send_test, name="test"),
    path(
        "<int:subscription_id>/deliveries/<int:delivery_id>/resend/",
        views.resend_delivery,
        name="resend",
    ),
]
