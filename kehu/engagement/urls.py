"""The interaction log."""

from django.urls import path

from kehu.engagement import views

app_name = "engagement"
urlpatterns = [path("customers/<int:pk>/log/", views.log, name="log")]
