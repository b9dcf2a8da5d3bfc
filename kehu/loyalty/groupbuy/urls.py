"""Pages of group deals. Included by kehu/loyalty/urls.py at /loyalty/referrals/ (their
addresses and names have not changed since they lived with the referrals)."""

from django.urls import URLPattern, URLResolver, path

from kehu.loyalty.groupbuy import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("group-deals/", views.deal_list, name="group_deals"),
    path("group-deals/new/", views.deal_new, name="group_deal_new"),
    path("group-deals/<int:deal_id>/", views.deal_detail, name="group_deal"),
    path("group-deals/<int:deal_id>/join/", views.deal_join, name="group_deal_join"),
    path("group-deals/<int:deal_id>/cancel/", views.deal_cancel, name="group_deal_cancel"),
]
