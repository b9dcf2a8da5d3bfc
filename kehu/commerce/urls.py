"""Order pages."""

from django.urls import path

from kehu.commerce import views

app_name = "commerce"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("<int:pk>/", views.order_detail, name="detail"),
]
