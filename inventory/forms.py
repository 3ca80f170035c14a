"""Forms of the inventory pages. They parse and validate input only; the views pass
``cleaned_data`` to the services in ``inventory.services``, which own the rules."""

from django import forms
from django.contrib.auth.models import User

from inventory.models import Dataset, DatasetColumn, MLModel, ModelVersion, Regulation, UseCase
from inventory.permissions import teams_user_can_write
from inventory.services import USE_CASE_FIELDS


def _people():
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.get_username()})" if name else obj.get_username()


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return PersonChoiceField.label_from_instance(self, obj)


class UseCaseForm(forms.ModelForm):
    """Register or change a use case. Teams are limited to those the user may write for."""

    business_owner = PersonChoiceField(queryset=_people())
    technical_owner = PersonChoiceField(queryset=_people())
    regulations = forms.ModelMultipleChoiceField(
        queryset=Regulation.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Every regulation or framework that applies. Changing them re-classifies "
        "a classified use case.",
    )
    datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.select_related("team").order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Datasets used to train, validate or score its models.",
    )

    class Meta:
        model = UseCase
        fields = [
            "name",
            "team",
            "status",
            "purpose",
            "restrictions",
            "business_owner",
            "technical_owner",
            "regulations",
            "uses_pii",
            "datasets",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 4}),
            "restrictions": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"purpose": "Purpose and intended use", "restrictions": "Restrictions on use"}
        help_texts = {
            "purpose": "What the use case is for, which decisions it supports and who acts on "
            "its outputs.",
            "restrictions": "Uses that are not allowed, e.g. 'not for pricing decisions'.",
            "uses_pii": "Tick when any input identifies or could identify a person.",
            "status": "Follows the versions: production while one is in production, "
            "validation while one is in QA or pre-production. Idea, development or retired "
            "only while no version has left development.",
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_user_can_write(user)
        self.fields["team"].empty_label = None if self.instance.pk else "Choose a team"

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            **{name: data[name] for name in USE_CASE_FIELDS},
            "regulations": list(data["regulations"]),
            "datasets": list(data["datasets"]),
        }


class MLModelForm(forms.ModelForm):
    class Meta:
        model = MLModel
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class MetricsField(forms.JSONField):
    """JSON object of metric names and numbers; an empty box means no metrics."""

    def prepare_value(self, value):
        return "" if value in (None, {}, "null") else super().prepare_value(value)


class ModelVersionForm(forms.ModelForm):
    """Register a version. The SHA-256 is normalised (trimmed, lower case) as the
    service does; the service decides whether the label already exists."""

    authors = PeopleChoiceField(queryset=_people(), widget=forms.CheckboxSelectMultiple)
    training_dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.order_by("name"), required=False, label="Training dataset"
    )
    metrics = MetricsField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"auc": 0.81, "ks": 0.42}'}),
        help_text="Evaluation metrics as JSON: names and numbers.",
    )

    class Meta:
        model = ModelVersion
        fields = [
            "version_label",
            "artifact_uri",
            "artifact_sha256",
            "framework",
            "training_dataset",
            "training_data_ref",
            "metrics",
            "authors",
        ]
        labels = {"artifact_uri": "Artifact URI", "artifact_sha256": "Artifact SHA-256"}
        help_texts = {
            "version_label": "Unique within the model, e.g. 2.3.0. A registered label never "
            "changes its artifact.",
            "artifact_uri": "Where the artifact is stored, e.g. s3://models/pd/2.3.0/model.pkl",
            "artifact_sha256": "64 hexadecimal characters (sha256sum of the artifact).",
            "framework": "e.g. scikit-learn 1.6, XGBoost 2.1, PyTorch 2.5",
        }

    def clean_artifact_sha256(self) -> str:
        return (self.cleaned_data.get("artifact_sha256") or "").strip().lower()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "version_label": data["version_label"],
            "artifact_uri": data["artifact_uri"],
            "artifact_sha256": data["artifact_sha256"],
            "framework": data["framework"],
            "training_dataset": data.get("training_dataset"),
            "training_data_ref": data.get("training_data_ref", ""),
            "metrics": data.get("metrics") or {},
            "authors": list(data["authors"]),
        }


class DatasetForm(forms.ModelForm):
    owner = PersonChoiceField(queryset=_people())

    class Meta:
        model = Dataset
        fields = ["name", "team", "owner", "source", "description", "provenance"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "provenance": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_user_can_write(user)
        self.fields["team"].empty_label = None if self.instance.pk else "Choose a team"

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class DatasetColumnForm(forms.ModelForm):
    class Meta:
        model = DatasetColumn
        fields = ["name", "data_type", "is_pii", "lineage_notes"]
        # Rendered as a table row under column headers, so each input names itself.
        widgets = {
            "name": forms.TextInput(attrs={"aria-label": "Column name"}),
            "data_type": forms.TextInput(attrs={"aria-label": "Data type"}),
            "is_pii": forms.CheckboxInput(attrs={"aria-label": "Holds personal data"}),
            "lineage_notes": forms.Textarea(attrs={"rows": 1, "aria-label": "Lineage notes"}),
        }
        labels = {"name": "Column", "data_type": "Type", "is_pii": "PII"}


class BaseDatasetColumnFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        names = [c["name"] for c in self.columns()]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise forms.ValidationError(
                f"Each column name may appear only once: {', '.join(duplicates)}."
            )

    def columns(self) -> list[dict]:
        """The kept, non-empty rows, as dataset_create/update take them."""
        return [
            {name: form.cleaned_data[name] for name in DatasetColumnForm.Meta.fields}
            for form in self.forms
            if form.cleaned_data
            and form.cleaned_data.get("name")
            and not (self.can_delete and self._should_delete_form(form))
        ]


DatasetColumnFormSet = forms.formset_factory(
    DatasetColumnForm,
    formset=BaseDatasetColumnFormSet,
    extra=2,
    can_delete=True,
    max_num=500,
    validate_max=True,
)


def dataset_column_initial(dataset: Dataset) -> list[dict]:
    return [
        {name: getattr(column, name) for name in DatasetColumnForm.Meta.fields}
        for column in dataset.columns.all()
    ]
