"""Routes of the prediction pages, mounted at /segments/ next to the segmentation pages (their
addresses did not change when they moved here); names in the `predictions` namespace."""

from django.urls import path

from kehu.predictions import views

app_name = "predictions"
urlpatterns = [
    path("churn/", views.churn, name="churn"),
    path("churn/export/", views.churn_export, name="churn_export"),
    path("churn/follow-ups/", views.churn_follow_ups, name="churn_follow_ups"),
    path("clv/", views.clv, name="clv"),
    path("clv/model/", views.clv_model, name="clv_model"),
    path("predictions/settings/", views.prediction_settings, name="prediction_settings"),
]
