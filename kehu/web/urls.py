"""The home page."""

from django.urls import path

from kehu.web import views

app_name = "web"
urlpatterns = [path("", views.home, name="home")]
