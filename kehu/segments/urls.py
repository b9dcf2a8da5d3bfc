"""Routes of the segmentation pages, mounted at /segments/."""

from django.urls import path

from kehu.segments import views, views_predictions

app_name = "segments"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("refresh/", views.refresh_metrics, name="refresh_metrics"),
    path("saved/", views.segment_list, name="list"),
    path("new/", views.builder, name="builder"),
    path("preview/", views.preview, name="preview"),
    path("settings/", views.thresholds, name="settings"),
    path("churn/", views_predictions.churn, name="churn"),
    path("churn/export/", views_predictions.churn_export, name="churn_export"),
    path("churn/follow-ups/", views_predictions.churn_follow_ups, name="churn_follow_ups"),
    path("clv/", views_predictions.clv, name="clv"),
    path("clv/model/", views_predictions.clv_model, name="clv_model"),
    path(
        "predictions/settings/",
        views_predictions.prediction_settings,
        name="prediction_settings",
    ),
    path("<int:segment_id>/", views.detail, name="detail"),
    path("<int:segment_id>/edit/", views.edit, name="edit"),
    path("<int:segment_id>/refresh/", views.refresh, name="refresh"),
    path("<int:segment_id>/delete/", views.delete, name="delete"),
    path("<int:segment_id>/export/", views.export, name="export"),
]
