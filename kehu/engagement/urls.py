"""The interaction log and the call-backs (回访), mounted at /interactions/."""

from django.urls import path

from kehu.engagement import views

app_name = "engagement"
urlpatterns = [
    path("customers/<int:pk>/log/", views.log, name="log"),
    path("customers/<int:pk>/follow-ups/", views.plan, name="plan_follow_up"),
    path("follow-ups/", views.follow_up_list, name="follow_ups"),
    path("follow-ups/export/", views.follow_up_export, name="follow_ups_export"),
    path("follow-ups/<int:follow_up_id>/done/", views.complete, name="complete_follow_up"),
    path("follow-ups/<int:follow_up_id>/cancel/", views.cancel, name="cancel_follow_up"),
]
