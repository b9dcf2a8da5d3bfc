"""Webhook pages, administrators only: the subscriptions, the form, the secret shown once, a
subscription's delivery log with resend and a test event."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.core.outcomes import call_service
from kehu.webhooks import queries, services
from kehu.webhooks.catalogue import EVENT_LABELS, event_label
from kehu.webhooks.forms import SubscriptionForm
from kehu.webhooks.models import Subscription, WebhookDeliveryStatus

PAGE_SIZE = 25
SECRET_SESSION_KEY = "webhooks.secret.{}"  # noqa: S105 - a session key name


def admin_user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    require(user, "webhook.manage")
    return user


def subscription_or_404(user: User, subscription_id: int) -> Subscription:
    try:
        return queries.get_subscription(user, subscription_id)
    except ObjectDoesNotExist as error:
        raise Http404 from error


@require_GET
def subscription_list(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    search = request.GET.get("q", "").strip()[:100]
    subscriptions = queries.search_subscriptions(user, search)
    page = Paginator(subscriptions, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (subscription, [event_label(name) for name in subscription.event_names])
        for subscription in page.object_list
    ]
    context = {"page": page, "rows": rows, "search": search, "section": "settings"}
    return render(request, "webhooks/subscriptions.html", context)


@require_http_methods(["GET", "POST"])
def subscription_create(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, services.create_subscription, user, form.to_input(), form=form
        )
        if outcome.succeeded:
            subscription, secret = outcome.value
            return show_secret_once(request, subscription, secret)
    return form_page(request, form, None)


@require_http_methods(["GET", "POST"])
def subscription_edit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    user = admin_user(request)
    subscription = subscription_or_404(user, subscription_id)
    form = SubscriptionForm(request.POST or None, subscription=subscription)
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, services.update_subscription, user, subscription.pk, form.to_input(), form=form
        )
        if outcome.succeeded:
            messages.success(request, _("The subscription was saved."))
            return redirect("webhooks:deliveries", subscription.pk)
    return form_page(request, form, subscription)


def form_page(
    request: HttpRequest, form: SubscriptionForm, subscription: Subscription | None
) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "subscription": subscription, "section": "settings"}
    return render(request, "webhooks/subscription_form.html", context, status=status)


def show_secret_once(request: HttpRequest, subscription: Subscription, secret: str) -> HttpResponse:
    request.session[SECRET_SESSION_KEY.format(subscription.pk)] = secret
    return redirect("webhooks:secret", subscription.pk)


@require_GET
def secret_once(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """The secret just made, taken out of the session: a reload shows it no more."""
    user = admin_user(request)
    subscription = subscription_or_404(user, subscription_id)
    secret = request.session.pop(SECRET_SESSION_KEY.format(subscription.pk), "")
    context = {"subscription": subscription, "secret": secret, "section": "settings"}
    response = render(request, "webhooks/secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def rotate(request: HttpRequest, subscription_id: int) -> HttpResponse:
    user = admin_user(request)
    subscription = subscription_or_404(user, subscription_id)
    subscription, secret = services.rotate_secret(user, subscription.pk)
    return show_secret_once(request, subscription, secret)


@require_POST
def delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    user = admin_user(request)
    subscription = subscription_or_404(user, subscription_id)
    services.delete_subscription(user, subscription.pk)
    messages.success(
        request, _("The subscription “%(name)s” was removed.") % {"name": subscription.name}
    )
    return redirect("webhooks:list")


@require_POST
def send_test(request: HttpRequest, subscription_id: int) -> HttpResponse:
    user = admin_user(request)
    subscription = subscription_or_404(user, subscription_id)
    outcome = call_service(request, services.send_test_event, user, subscription.pk)
    if outcome.succeeded:
        messages.success(request, _("A test event was queued; its delivery appears below."))
    return redirect("webhooks:deliveries", subscription.pk)


@require_GET
def delivery_log(request: HttpRequest, subscription_id: int) -> HttpResponse:
    user = admin_user(request)
    subscription = subscription_or_404(user, subscription_id)
    filters = queries.DeliveryFilters.from_params(request.GET)
    deliveries = queries.subscription_deliveries(user, subscription.pk, filters)
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "subscription": subscription,
        "events": [event_label(name) for name in subscription.event_names],
        "page": page,
        "deliveries": [
            (delivery, event_label(delivery.event_name)) for delivery in page.object_list
        ],
        "filters": filters,
        "statuses": WebhookDeliveryStatus.choices,
        "event_choices": [(name, str(label)) for name, label in EVENT_LABELS.items()],
        "section": "settings",
    }
    return render(request, "webhooks/deliveries.html", context)


@require_POST
def resend_delivery(request: HttpRequest, subscription_id: int, delivery_id: int) -> HttpResponse:
    user = admin_user(request)
    try:
        delivery = queries.get_delivery(user, delivery_id, subscription_id)
    except ObjectDoesNotExist as error:
        raise Http404 from error
    services.resend(user, delivery)
    if delivery.subscription.is_active:
        messages.success(request, _("The delivery is sent again."))
    else:
        messages.warning(
            request, _("The delivery waits until the subscription is turned on again.")
        )
    return redirect("webhooks:deliveries", subscription_id)
