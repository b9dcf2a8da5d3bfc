"""Pages of the loyalty programme: coupons. Included by kehu/loyalty/urls.py."""

from django.urls import URLPattern, URLResolver, path  # noqa: F401

urlpatterns: list[URLPattern | URLResolver] = []
