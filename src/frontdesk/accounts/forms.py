from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm


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


class PasswordChangeRequiredForm(PasswordChangeForm):
    """Django's change-password form (the validators of AUTH_PASSWORD_VALIDATORS apply),
    worded for the desk."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "That is not your current password. Type it again.",
        "password_mismatch": "The two new passwords differ. Type the same one twice.",
    }

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["old_password"].help_text = "The one you signed in with just now."
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = (
            "At least 12 characters; not a common password, not all digits, not like your "
            "name or username. A few unrelated words work well."
        )
        self.fields["new_password2"].label = "New password again"

    def clean_new_password1(self) -> str:
        new = str(self.cleaned_data.get("new_password1") or "")
        old = str(self.data.get("old_password") or "")
        if new and old and new == old:
            raise forms.ValidationError("Choose a new password, not the one you have now.")
        return new
