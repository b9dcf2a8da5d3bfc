"""The notifications page and the unread badge in the header: each user reads and marks only
their own, the badge costs one query, and a link leads only inside the site."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from kehu.accounts.models import Notification
from kehu.accounts.notifications import NewNotification, notify
from kehu.web.context_processors import navigation


def note(user, title, link="", **fields):
    notify([NewNotification(recipient_id=user.pk, kind="churn_warning", title=title, link=link)])
    notification = Notification.objects.filter(recipient=user, title=title).get()
    if fields:
        Notification.objects.filter(pk=notification.pk).update(**fields)
        notification.refresh_from_db()
    return notification


def test_list_shows_only_my_notifications_newest_first(client, sales, other_sales):
    note(sales, "王芳进入流失预警", created_at=timezone.now() - timedelta(hours=2))
    note(sales, "刘洋进入流失预警")
    note(other_sales, "别人的提醒")
    client.force_login(sales)
    response = client.get(reverse("accounts:notifications"))
    assert [item.title for item in response.context["notifications"]] == [
        "刘洋进入流失预警",
        "王芳进入流失预警",
    ]
    content = response.content.decode()
    assert "别人的提醒" not in content
    assert 'id="read-all"' in content


def test_header_badge_counts_unread_notifications(client, sales):
    note(sales, "一")
    note(sales, "二")
    note(sales, "三", read_at=timezone.now())
    client.force_login(sales)
    content = client.get(reverse("web:home")).content.decode()
    assert '<span class="badge warning" id="unread-count">2</span>' in content
    Notification.objects.update(read_at=timezone.now())
    content = client.get(reverse("web:home")).content.decode()
    assert 'id="unread-count"' not in content
    assert reverse("accounts:notifications") in content


def test_badge_costs_one_query_and_only_when_shown(rf, sales, django_assert_num_queries):
    note(sales, "一")
    request = rf.get("/")
    request.user = sales
    context = navigation(request)
    with django_assert_num_queries(0):
        navigation(request)
    with django_assert_num_queries(1):
        assert context["unread_notifications"]() == 1
        assert context["unread_notifications"]() == 1


def test_mark_one_read(client, sales):
    first = note(sales, "一")
    second = note(sales, "二")
    client.force_login(sales)
    response = client.post(reverse("accounts:read_notification", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None


def test_mark_all_read_touches_only_my_own(client, sales, other_sales):
    note(sales, "一")
    note(sales, "二")
    theirs = note(other_sales, "别人的")
    client.force_login(sales)
    client.post(reverse("accounts:read_all_notifications"))
    assert not Notification.objects.filter(recipient=sales, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_nobody_reads_or_marks_someone_elses(client, sales, other_sales):
    theirs = note(other_sales, "别人的", link="/customers/")
    client.force_login(sales)
    assert client.post(reverse("accounts:read_notification", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("accounts:open_notification", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_marks_read_and_follows_an_inside_link_only(client, sales, own_customer):
    inside = note(sales, "王芳进入流失预警", link=f"/customers/{own_customer.pk}/")
    outside = note(sales, "钓鱼", link="https://evil.example.com/")
    client.force_login(sales)
    response = client.get(reverse("accounts:open_notification", args=[inside.pk]))
    assert response["Location"] == f"/customers/{own_customer.pk}/"
    inside.refresh_from_db()
    assert inside.read_at is not None
    response = client.get(reverse("accounts:open_notification", args=[outside.pk]))
    assert response["Location"] == reverse("accounts:notifications")


def test_empty_state(client, sales):
    client.force_login(sales)
    content = client.get(reverse("accounts:notifications")).content.decode()
    assert 'id="no-notifications"' in content
    assert 'id="read-all"' not in content
