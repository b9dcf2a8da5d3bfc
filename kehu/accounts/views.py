"""Sign-in, sign-out, the customer-pool settings page and the user's notifications."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from kehu.accounts.forms import LoginForm, PoolPolicyForm
from kehu.accounts.models import PoolPolicy, User
from kehu.accounts.notifications import mark_read, notifications_for, unread_count
from kehu.accounts.services import update_pool_policy
from kehu.core.outcomes import call_service, redirect_back

PAGE_SIZE = 25

login = login_not_required(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
    )
)
logout = auth_views.LogoutView.as_view()


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """What a sign-in gets while its account or address is locked (django-axes calls this)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"cool_off_minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT}
    response = render(request, "accounts/locked_out.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def pool_settings(request: HttpRequest) -> HttpResponse:
    """Claim limit and automatic return of the customer pool; administrators only."""
    if not request.user.policy.can_manage_settings:  # type: ignore[union-attr]
        raise PermissionDenied(_("Only administrators may change the settings."))
    form = PoolPolicyForm(request.POST or None, instance=PoolPolicy.current())
    if request.method == "POST" and form.is_valid():
        outcome = call_service(
            request, update_pool_policy, request.user, **form.cleaned_data, form=form
        )
        if outcome.succeeded:
            messages.success(request, _("The customer pool settings were saved."))
            return redirect("accounts:pool_settings")
    return render(request, "accounts/pool_settings.html", {"form": form, "section": "settings"})


# --- notifications ----------------------------------------------------------------------------


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    notifications = notifications_for(user).order_by("-created_at", "-pk")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "notifications": list(page.object_list),
        "has_unread": unread_count(user) > 0,
        "section": "notifications",
    }
    return render(request, "accounts/notifications.html", context)


@require_GET
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and follow its link (only a link inside this site)."""
    user: User = request.user  # type: ignore[assignment]
    notification = get_object_or_404(notifications_for(user), pk=notification_id)
    mark_read(user, [notification.pk])
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(link)
    return redirect("accounts:notifications")


@require_POST
def read_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    get_object_or_404(notifications_for(user), pk=notification_id)
    mark_read(user, [notification_id])
    return redirect_back(request, reverse("accounts:notifications"))


@require_POST
def read_all_notifications(request: HttpRequest) -> HttpResponse:
    marked = mark_read(request.user)  # type: ignore[arg-type]
    if marked:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked read.",
                "%(count)d notifications marked read.",
                marked,
            )
            % {"count": marked},
        )
    return redirect("accounts:notifications")
