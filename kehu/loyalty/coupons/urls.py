"""Pages of the loyalty programme: coupons, mounted at /loyalty/coupons/ by kehu/loyalty/urls.py."""

from django.urls import URLPattern, URLResolver, path

from kehu.loyalty.coupons import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.template_list, name="coupon_templates"),
    path("export/", views.template_export, name="coupon_templates_export"),
    path("new/", views.template_create, name="coupon_template_create"),
    path("<int:template_id>/", views.template_detail, name="coupon_template"),
    path("<int:template_id>/edit/", views.template_edit, name="coupon_template_edit"),
    path("<int:template_id>/issue/", views.issue, name="coupon_issue"),
    path("batches/<int:batch_id>/", views.batch_progress, name="coupon_batch"),
    path("redeem/", views.redeem, name="coupon_redeem"),
    path("code/<str:code>/void/", views.void, name="coupon_void"),
    path("customers/<int:customer_id>/", views.customer_coupons, name="coupon_customer"),
]
