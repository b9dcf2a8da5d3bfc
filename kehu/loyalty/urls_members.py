"""Pages of the loyalty programme: members, the counter, the programme's rules, gifts and report.
Included by kehu/loyalty/urls.py at /loyalty/."""

from django.urls import URLPattern, URLResolver, path

from kehu.loyalty import views_approvals
from kehu.loyalty import views_members as members
from kehu.loyalty import views_programme as programme

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
    path("approvals/", views_approvals.approvals, name="approvals"),
    path(
        "approvals/<int:approval_id>/<str:decision>/",
        views_approvals.decide,
        name="approval_decide",
    ),
    path("programme/", programme.programme, name="programme"),
    path("gifts/", programme.gifts, name="gifts"),
    path("gifts/<int:gift_id>/", programme.gift_edit, name="gift_edit"),
    path("report/", programme.report, name="report"),
]
