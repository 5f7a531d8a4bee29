from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("Wrong username or password. Repeated failures lock the account for 15 minutes."),
        "inactive": _("This account is disabled."),
    }


class TokenForm(forms.Form):
    token = forms.RegexField(label=_("Six-digit code"), regex=r"^\d{6}$", max_length=6,
                             error_messages={"invalid": _("Enter the six digits shown in your authenticator app.")},
                             widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=60)
