"""Pages of the programme: its rules and tiers, the gift catalogue and the report. Included by
kehu/loyalty/urls.py at /loyalty/."""

from django.urls import URLPattern, URLResolver, path

from kehu.loyalty.programme import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("programme/", views.programme, name="programme"),
    path("gifts/", views.gifts, name="gifts"),
    path("gifts/<int:gift_id>/", views.gift_edit, name="gift_edit"),
    path("report/", views.report, name="report"),
]
