"""Sign-in, sign-out and the customer-pool settings page."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kehu.accounts.forms import LoginForm, PoolPolicyForm
from kehu.accounts.models import PoolPolicy
from kehu.accounts.services import update_pool_policy
from kehu.web.outcomes import call_service

login = login_not_required(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
    )
)
logout = auth_views.LogoutView.as_view()


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
