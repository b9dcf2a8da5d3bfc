"""Forms of the accounts pages: sign-in and the customer-pool policy."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import PoolPolicy


class LoginForm(AuthenticationForm):
    """Django's sign-in form, with inputs that suit a phone keyboard and password managers."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class PoolPolicyForm(forms.ModelForm):
    class Meta:
        model = PoolPolicy
        fields = ["claim_limit", "auto_return_days", "is_auto_return_enabled"]
        widgets = {
            "claim_limit": forms.NumberInput(attrs={"min": 0}),
            "auto_return_days": forms.NumberInput(attrs={"min": 1}),
        }

    def clean_auto_return_days(self) -> int:
        days = self.cleaned_data["auto_return_days"]
        if days < 1:
            raise forms.ValidationError(_("At least one day."))
        return days
