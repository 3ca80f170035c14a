"""Forms of the Step 2 pages: an ethics questionnaire version as a form.

Single choice -> radio buttons, multiple choice -> checkboxes (none ticked is a valid
answer), scale -> radio buttons from the lowest to the highest value with the ends
labelled, free text -> a text area. ``answers()`` returns what the services take; the
services validate again (the API does not use this form).
"""

from collections.abc import Iterable
from typing import Any

from django import forms

from accounts.filters import IdField
from core import ethics_rules

NOTE_FIELD = "ethics_note"
TOLERANCE_FIELD = "ethics_tolerance"


class EthicsAnswersForm(forms.Form):
    def __init__(
        self,
        *args,
        questions: Iterable[ethics_rules.Question],
        with_tolerance: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[question.code] = self._field_for(question)
        self.fields[NOTE_FIELD] = forms.CharField(
            label="Note for the record",
            required=False,
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="Why you are (re)answering, e.g. 'Annual review'.",
        )
        if with_tolerance:
            self.fields[TOLERANCE_FIELD] = forms.IntegerField(
                label="Tolerance (points)",
                required=False,
                min_value=0,
                max_value=4,
                initial=ethics_rules.DEFAULT_TOLERANCE,
                help_text="How many points a use case's scale answer (e.g. transparency) may "
                "fall below this position before it is a deviation its model-acceptance "
                "Accountable must answer for.",
            )

    @staticmethod
    def _field_for(q: ethics_rules.Question) -> forms.Field:
        common = {"label": q.text, "help_text": q.help_text}
        if q.kind == ethics_rules.MULTI:
            return forms.MultipleChoiceField(
                choices=list(q.options.items()),
                widget=forms.CheckboxSelectMultiple,
                required=False,
                **common,
            )
        if q.kind == ethics_rules.SINGLE:
            return forms.ChoiceField(
                choices=list(q.options.items()),
                widget=forms.RadioSelect,
                required=q.required,
                **common,
            )
        if q.kind == ethics_rules.SCALE:
            ends = {q.scale_min: q.scale_min_label, q.scale_max: q.scale_max_label}
            choices = [
                (value, f"{value} – {ends[value]}" if ends.get(value) else str(value))
                for value in range(q.scale_min, q.scale_max + 1)
            ]
            return forms.TypedChoiceField(
                choices=choices,
                coerce=int,
                empty_value=None,
                widget=forms.RadioSelect,
                required=q.required,
                **common,
            )
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3}),
            required=q.required,
            max_length=ethics_rules.TEXT_MAX_LENGTH,
            **common,
        )

    def answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for question in self.questions:
            value = self.cleaned_data.get(question.code)
            if question.kind == ethics_rules.MULTI:
                answers[question.code] = list(value or [])
            elif value not in (None, ""):
                answers[question.code] = value
        return answers

    def note(self) -> str:
        return self.cleaned_data.get(NOTE_FIELD, "")

    def tolerance(self) -> int:
        value = self.cleaned_data.get(TOLERANCE_FIELD)
        return ethics_rules.DEFAULT_TOLERANCE if value is None else value


class EthicsCompareForm(forms.Form):
    """``?left=<id>&right=<id>``: the two answer sets of the compare page."""

    left = IdField()
    right = IdField()
