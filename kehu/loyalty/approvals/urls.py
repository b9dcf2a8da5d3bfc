"""The approvals page, included by kehu/loyalty/urls.py at /loyalty/."""

from django.urls import URLPattern, URLResolver, path

from kehu.loyalty.approvals import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("approvals/", views.approvals, name="approvals"),
    path(
        "approvals/<int:approval_id>/<str:decision>/",
        views.decide,
        name="approval_decide",
    ),
]
