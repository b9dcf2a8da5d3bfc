"""Routes of the loyalty pages, mounted at /loyalty/; each part has its own module."""

from django.urls import include, path

app_name = "loyalty"
urlpatterns = [
    path("", include("kehu.loyalty.urls_members")),
    path("programme/earning-rules/", include("kehu.loyalty.urls_earning")),
    path("coupons/", include("kehu.loyalty.urls_coupons")),
    path("referrals/", include("kehu.loyalty.urls_referrals")),
]
