"""The administrator's events page."""

from django.urls import path

from kehu.events import views

app_name = "events"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("<int:pk>/replay/", views.replay, name="replay"),
]
