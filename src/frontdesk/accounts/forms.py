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

    def clean_username(self) -> str:
        # AuthenticationForm sets the field's max_length after the field is built, so only the
        # browser enforced it; a longer name reached axes, whose failure log stores at most 255.
        username = str(self.cleaned_data["username"])
        most = getattr(self.fields["username"], "max_length", None) or 150
        if len(username) > most:
            raise forms.ValidationError(
                f"A username is at most {most} characters. Check what you typed."
            )
        return username


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
