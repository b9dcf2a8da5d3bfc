"""Pages of the referral programme. Included by kehu/loyalty/urls.py at /loyalty/referrals/."""

from django.urls import URLPattern, URLResolver, path

from kehu.loyalty.referrals import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.report, name="referrals"),
    path("members/<int:customer_id>/", views.member_tree, name="referral_tree"),
    path("members/<int:customer_id>/partial/", views.member_referrals, name="member_referrals"),
]
