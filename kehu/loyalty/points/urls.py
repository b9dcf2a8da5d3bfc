"""Earning rule pages, included by kehu/loyalty/urls.py at /loyalty/programme/earning-rules/."""

from django.urls import URLPattern, path

from kehu.loyalty.points import views as earning

urlpatterns: list[URLPattern] = [
    path("", earning.rule_list, name="earning_rules"),
    path("export/", earning.rule_export, name="earning_rules_export"),
    path("new/", earning.rule_create, name="earning_rule_create"),
    path("<int:rule_id>/", earning.rule_edit, name="earning_rule"),
]
