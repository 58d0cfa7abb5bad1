from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": (
            "That username and password do not match. Check Caps Lock and try again; "
            "after 5 failed attempts you will have to wait a minute, longer after each further one."
        ),
        "inactive": "This account is switched off. Ask your supervisor.",
    }


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split()).replace("-", "").lower()
        if not token.isalnum():
            raise forms.ValidationError("Codes are letters and digits only.")
        return token
