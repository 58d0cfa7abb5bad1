"""The playbook edit form. It parses; the rules are the service's (playbook_text_check)."""

from __future__ import annotations

from django import forms

from frontdesk.playbooks.models import STEPS_MAX, TITLE_MAX


class PlaybookForm(forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=TITLE_MAX,
        error_messages={"required": "Give the playbook a title."},
    )
    steps = forms.CharField(
        label="Steps",
        max_length=STEPS_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
        help_text=(
            'One step per line, numbered: "1. Greet the patient." A line starting with "-" '
            "under a step is a point of that step, such as what to say. A blank line ends the "
            "list. The text is shown as written: no HTML."
        ),
        error_messages={
            "required": 'Write at least one numbered step, such as "1. Greet the patient."'
        },
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)
