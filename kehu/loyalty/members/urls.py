"""Pages of the loyalty programme: members and the counter. Included by kehu/loyalty/urls.py at
/loyalty/."""

from django.urls import URLPattern, URLResolver, path

from kehu.loyalty.members import views as members

urlpatterns: list[URLPattern | URLResolver] = [
    path("", members.member_list, name="members"),
    path("export/", members.member_export, name="members_export"),
    path("<int:customer_id>/", members.member_detail, name="member"),
    path("<int:customer_id>/enrol/", members.enrol, name="enrol"),
    path("<int:customer_id>/adjust/", members.adjust, name="adjust"),
    path("<int:customer_id>/status/<str:status>/", members.change_status, name="member_status"),
    path("<int:customer_id>/statement/", members.statement_export, name="statement_export"),
    path("counter/", members.counter, name="counter"),
    path(
        "counter/<int:customer_id>/<str:kind>/",
        members.counter_redeem,
        name="counter_redeem",
    ),
]
