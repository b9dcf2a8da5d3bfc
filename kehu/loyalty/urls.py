"""Routes of the loyalty pages, mounted at /loyalty/; each part has its own module."""

from django.urls import include, path

app_name = "loyalty"
urlpatterns = [
    path("", include("kehu.loyalty.members.urls")),
    path("", include("kehu.loyalty.approvals.urls")),
    path("", include("kehu.loyalty.programme.urls")),
    path("programme/earning-rules/", include("kehu.loyalty.points.urls")),
    path("coupons/", include("kehu.loyalty.coupons.urls")),
    path("referrals/", include("kehu.loyalty.referrals.urls")),
    path("referrals/", include("kehu.loyalty.groupbuy.urls")),
]
