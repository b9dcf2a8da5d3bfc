"""Top-level URL routes: pages, the REST API and the language switch."""

from django.contrib import admin
from django.urls import include, path

from kehu.api import api_urls

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("kehu.accounts.urls")),
    path("customers/", include("kehu.customers.urls")),
    path("orders/", include("kehu.commerce.urls")),
    path("interactions/", include("kehu.engagement.urls")),
    path("data/", include("kehu.imports.urls")),
    path("segments/", include("kehu.segments.urls")),
    path("segments/", include("kehu.predictions.urls")),
    path("loyalty/", include("kehu.loyalty.urls")),
    path("settings/webhooks/", include("kehu.webhooks.urls")),
    path("settings/events/", include("kehu.events.urls")),
    path("api/", api_urls),
    path("", include("kehu.web.urls")),
]

handler400 = "kehu.web.views.bad_request"
