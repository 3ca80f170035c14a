"""Forms of the governance pages: the Step 1 questionnaire, and the helper that shows a
service's ValidationError on a form."""

from collections.abc import Iterable
from typing import Any

from django import forms

from governance.models import RiskQuestion

YES, NO = "yes", "no"
NOTE_FIELD = "classification_note"


class ClassificationForm(forms.Form):
    """The questionnaire: one field per question answered here, named by its code.

    Single choice -> radio buttons, multiple choice -> checkboxes, yes/no -> radio
    buttons. Questions read from the use case (regulations, PII) get no field; the
    page shows them read-only. ``answers()`` returns what classification_submit takes.
    """

    def __init__(self, *args, questions: Iterable[RiskQuestion], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = [q for q in questions if q.source == RiskQuestion.Source.ANSWER]
        for question in self.questions:
            self.fields[question.code] = self._field_for(question)
        self.fields[NOTE_FIELD] = forms.CharField(
            label="Note for the record",
            required=False,
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="Why you are (re)classifying, e.g. 'Annual review' or 'Scope changed'.",
        )

    @staticmethod
    def _field_for(question: RiskQuestion) -> forms.Field:
        common = {"label": question.text, "help_text": question.help_text}
        if question.kind == RiskQuestion.Kind.MULTI:
            # An empty selection is a valid answer ("none of these").
            return forms.MultipleChoiceField(
                choices=[(o.code, o.label) for o in question.options.all()],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                **common,
            )
        if question.kind == RiskQuestion.Kind.BOOLEAN:
            choices = [(YES, "Yes"), (NO, "No")]
        else:
            choices = [(o.code, o.label) for o in question.options.all()]
        return forms.ChoiceField(
            choices=choices, widget=forms.RadioSelect, required=question.required, **common
        )

    @staticmethod
    def initial_from_answers(answers: dict[str, Any]) -> dict[str, Any]:
        """Stored answers -> initial form values (booleans become yes/no)."""
        return {
            code: (YES if value else NO) if isinstance(value, bool) else value
            for code, value in answers.items()
        }

    def answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for question in self.questions:
            value = self.cleaned_data.get(question.code)
            if question.kind == RiskQuestion.Kind.BOOLEAN:
                value = {YES: True, NO: False}.get(value)
            elif question.kind == RiskQuestion.Kind.MULTI:
                value = list(value or [])
            elif value == "":
                value = None
            if value is not None:
                answers[question.code] = value
        return answers

    def note(self) -> str:
        return self.cleaned_data.get(NOTE_FIELD, "")
