"""Routes of the segmentation pages, mounted at /segments/ (the prediction pages share the prefix:
kehu/predictions/urls.py)."""

from django.urls import path

from kehu.segments import views

app_name = "segments"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("refresh/", views.refresh_metrics, name="refresh_metrics"),
    path("saved/", views.segment_list, name="list"),
    path("new/", views.builder, name="builder"),
    path("preview/", views.preview, name="preview"),
    path("settings/", views.thresholds, name="settings"),
    path("<int:segment_id>/", views.detail, name="detail"),
    path("<int:segment_id>/edit/", views.edit, name="edit"),
    path("<int:segment_id>/refresh/", views.refresh, name="refresh"),
    path("<int:segment_id>/delete/", views.delete, name="delete"),
    path("<int:segment_id>/export/", views.export, name="export"),
]
