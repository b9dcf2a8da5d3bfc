"""Pages of the loyalty programme: referrals. Included by kehu/loyalty/urls.py."""

from django.urls import URLPattern, URLResolver, path  # noqa: F401

urlpatterns: list[URLPattern | URLResolver] = []
