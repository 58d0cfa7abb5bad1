"""Letter forms: a template's words (the rules are the service's, letter_template_check), and a
letter to write from the chart. They parse; what was typed is kept on a refusal."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone

from frontdesk.letters.models import BODY_MAX, SUBJECT_MAX, LetterDelivery, LetterKind
from frontdesk.lib.choices import choose_first
from frontdesk.lib.ids import IdChoiceField
from frontdesk.scheduling.models import Appointment

# Letters the desk writes from the chart or a visit: everything they say, Frontdesk knows.
# The others are written where their work is done (a referral declined, a complaint taken).
CHART_KINDS = (LetterKind.APPOINTMENT_CONFIRMATION, LetterKind.MISSED_APPOINTMENT)


class LetterTemplateForm(forms.Form):
    subject = forms.CharField(
        label="Subject",
        max_length=SUBJECT_MAX,
        error_messages={"required": "Give the letter a subject."},
    )
    body = forms.CharField(
        label="Letter",
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
        help_text=(
            "A blank line starts a new paragraph. Fields in braces, such as {patient_name}, "
            "are filled in for each letter; only the fields listed beside the form can be used. "
            "The text is printed as written: no HTML."
        ),
        error_messages={"required": "Write the letter's text."},
    )


def _visit_label(appointment: Appointment) -> str:
    start = timezone.localtime(appointment.start)
    return (
        f"{start:%a %b} {start.day}, {start.year} {start:%H:%M} with {appointment.provider} "
        f"({appointment.get_status_display().lower()})"
    )


class LetterIssueForm(forms.Form):
    kind = forms.ChoiceField(
        label="Letter",
        choices=choose_first((k.value, k.label) for k in CHART_KINDS),
        error_messages={"required": "Choose which letter to write."},
    )
    appointment = IdChoiceField(
        label="The visit it is about",
        queryset=Appointment.objects.none(),
        error_messages={"required": "Choose the visit the letter is about."},
    )
    # No default: whether the letter is printed or sent is the officer's choice each time.
    delivery = forms.ChoiceField(
        label="Then",
        choices=[
            (LetterDelivery.PRINT.value, "Print it (the PDF opens for printing)"),
            (LetterDelivery.MESSAGE.value, "Send it by the patient's agreed email or text"),
            (LetterDelivery.FILED.value, "Only file it to the chart"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to print the letter or send it."},
    )

    def __init__(self, *args: Any, visits: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(IdChoiceField, self.fields["appointment"])
        ids = [v.pk for v in visits or []]
        field.queryset = Appointment.objects.filter(pk__in=ids).select_related("provider")
        field.label_from_instance = _visit_label  # type: ignore[method-assign,assignment]
