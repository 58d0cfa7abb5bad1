from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.contrib.auth.validators import UnicodeUsernameValidator

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.clinic.models import Location
from frontdesk.lib.choices import choose_first


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


class StaffForm(forms.Form):
    """A member of staff's details, as an administrator adds or changes them."""

    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="What they type to sign in: letters, digits and @ . + - _ only.",
        validators=[UnicodeUsernameValidator()],
    )
    email = forms.EmailField(label="Email", required=False, max_length=254)
    role = forms.ChoiceField(label="Role", choices=choose_first(Role.choices))
    location = forms.ModelChoiceField(
        label="Location",
        queryset=Location.objects.none(),
        required=False,
        empty_label="— any location —",
    )
    access = forms.ChoiceField(
        label="How they get in",
        choices=[
            (
                "password",
                "A temporary password, shown to you now, that they change at first sign-in",
            ),
            ("invite", "An invitation link, shown to you now, where they set their own password"),
        ],
        widget=forms.RadioSelect,
    )

    def __init__(
        self,
        data: Any = None,
        *,
        clinic_id: int | None,
        member: User | None = None,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.member = member
        location = self.fields["location"]
        if isinstance(location, forms.ModelChoiceField):
            location.queryset = Location.objects.filter(clinic=clinic_id).order_by("name")
        if member is not None:
            # A username is how the person signs in and how the audit trail names them.
            del self.fields["username"]
            del self.fields["access"]

    def clean_username(self) -> str:
        username = str(self.cleaned_data["username"]).strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                "That username is taken (perhaps by a deactivated account). Choose another."
            )
        return username


CHOOSING_ADVICE = (
    "At least 12 characters; not a common password, not all digits, not like your name or "
    "username. A few unrelated words work well."
)


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
        self.fields["new_password1"].help_text = CHOOSING_ADVICE
        self.fields["new_password2"].label = "New password again"

    def clean_new_password1(self) -> str:
        new = str(self.cleaned_data.get("new_password1") or "")
        old = str(self.data.get("old_password") or "")
        if new and old and new == old:
            raise forms.ValidationError("Choose a new password, not the one you have now.")
        return new


class InvitePasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    """An invited member of staff chooses their password (Django's validators apply)."""

    error_messages = {
        **SetPasswordForm.error_messages,
        "password_mismatch": "The two passwords differ. Type the same one twice.",
    }

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = "Your password"
        self.fields["new_password1"].help_text = CHOOSING_ADVICE
        self.fields["new_password2"].label = "Your password again"
