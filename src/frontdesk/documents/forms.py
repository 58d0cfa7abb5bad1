"""Upload, filing and move forms. The files' content is checked by the service (lib/uploads.py),
never by the browser's word or the file's name."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from frontdesk.documents.models import DocumentKind
from frontdesk.lib.choices import choose_first
from frontdesk.lib.ids import IdChoiceField
from frontdesk.scheduling.models import Appointment

ACCEPT = ".pdf,.jpg,.jpeg,.png,.tif,.tiff,application/pdf,image/jpeg,image/png,image/tiff"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


class UploadForm(forms.Form):
    upload = MultipleFileField(
        label="Files", required=False, help_text="PDF, JPEG, PNG or TIFF; choose several at once."
    )
    # On a phone or tablet, `capture` opens the camera: a scan without a scanner.
    scan = MultipleFileField(
        label="Or scan with the camera",
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    kind = forms.ChoiceField(
        label="Kind", choices=choose_first(DocumentKind.choices), required=False
    )
    title = forms.CharField(label="Description", max_length=200, required=False)

    def __init__(self, *args: Any, kind_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].required = kind_required

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("upload") and not cleaned.get("scan") and not self.errors:
            raise forms.ValidationError("Choose at least one file to upload, or scan one.")
        return cleaned


class FilingForm(forms.Form):
    mrn = forms.CharField(
        label="Patient's MRN", max_length=12, help_text="Find the patient first, then type the MRN."
    )
    kind = forms.ChoiceField(label="Kind", choices=choose_first(DocumentKind.choices))
    title = forms.CharField(label="Description", max_length=200, required=False)
    appointment = IdChoiceField(
        label="Visit", queryset=Appointment.objects.none(), required=False, empty_label="None"
    )

    def __init__(self, *args: Any, visits: list[Appointment] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(IdChoiceField, self.fields["appointment"])
        field.queryset = Appointment.objects.filter(pk__in=[v.pk for v in visits or []])
        field.label_from_instance = _visit_label  # type: ignore[method-assign,assignment]

    def clean_mrn(self) -> str:
        return str(self.cleaned_data["mrn"]).strip().upper()


def _visit_label(appointment: Appointment) -> str:
    return f"{timezone.localtime(appointment.start):%b %-d, %Y %H:%M} with {appointment.provider}"


class MoveForm(forms.Form):
    mrn = forms.CharField(label="The right patient's MRN", max_length=12)
    reason = forms.CharField(
        label="Why it is moved",
        max_length=300,
        help_text="For example: wrong MRN, same name, scanned with another patient's papers.",
    )

    def clean_mrn(self) -> str:
        return str(self.cleaned_data["mrn"]).strip().upper()
