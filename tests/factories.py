"""factory_boy factories shared by every test package."""

import datetime as dt
import hashlib

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.roles import Role
from experiments.models import Experiment
from fairness.models import BiasSummary, ScoredDataset
from governance.models import Consideration, Obligation, PolicyVersion
from inventory.choices import Environment, LifecycleStatus
from inventory.models import Dataset, DatasetColumn, MLModel, ModelVersion, Team, UseCase
from monitoring.models import DriftAlert, MonitoringConfig, MonitoringWindow
from reviews.models import Finding, GateCall, PromotionRequest

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """UserFactory(roles=[Role.DATA_SCIENTIST])"""
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=role))
        if create:
            self.save()

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        for team in extracted or []:
            team.members.add(self)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"dataset-{n}")
    source = "warehouse.schema.table"
    provenance = "Nightly extract from the core banking system."
    owner = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)


class DatasetColumnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DatasetColumn

    dataset = factory.SubFactory(DatasetFactory)
    name = factory.Sequence(lambda n: f"column_{n}")
    data_type = "float"


class UseCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UseCase

    name = factory.Sequence(lambda n: f"Use case {n}")
    purpose = "Score applications to decide which to review first."
    team = factory.SubFactory(TeamFactory)
    business_owner = factory.SubFactory(UserFactory)
    technical_owner = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("technical_owner")
    status = LifecycleStatus.DEVELOPMENT


class MLModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MLModel

    use_case = factory.SubFactory(UseCaseFactory)
    name = factory.Sequence(lambda n: f"model-{n}")
    created_by = factory.SelfAttribute("use_case.technical_owner")


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion
        skip_postgeneration_save = True

    model = factory.SubFactory(MLModelFactory)
    version_label = factory.Sequence(lambda n: f"1.{n}")
    artifact_uri = factory.LazyAttribute(lambda v: f"s3://models/{v.version_label}/model.pkl")
    artifact_sha256 = factory.LazyAttribute(
        lambda v: hashlib.sha256(v.version_label.encode()).hexdigest()
    )
    framework = "scikit-learn 1.6"
    metrics = factory.LazyFunction(lambda: {"auc": 0.81})
    registered_by = factory.SelfAttribute("model.created_by")

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if create:
            self.authors.set(extracted or [self.registered_by])


class PromotionRequestFactory(factory.django.DjangoModelFactory):
    """A pending promotion from development to QA, one sign-off."""

    class Meta:
        model = PromotionRequest

    model_version = factory.SubFactory(ModelVersionFactory)
    from_environment = Environment.DEV
    to_environment = Environment.QA
    justification = "Validated on the hold-out set."
    requested_by = factory.SelfAttribute("model_version.registered_by")
    requested_at = factory.LazyFunction(timezone.now)
    required_signoffs = 1
    slots = factory.LazyFunction(lambda: ["model-acceptance"])


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    model_version = factory.SubFactory(ModelVersionFactory)
    source = Finding.Source.VALIDATION
    title = factory.Sequence(lambda n: f"Finding {n}")
    opened_by = factory.SelfAttribute("model_version.registered_by")
    opened_at = factory.LazyFunction(timezone.now)


class GateCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GateCall

    at = factory.LazyFunction(timezone.now)
    caller = factory.SubFactory(UserFactory)
    model_version = factory.SubFactory(ModelVersionFactory)
    environment = Environment.QA
    allowed = False
    reasons = factory.LazyFunction(lambda: [{"code": "no-approval", "message": "Not approved."}])
    payload = factory.LazyAttribute(lambda c: {"model_version": str(c.model_version.pk)})


class ExperimentFactory(factory.django.DjangoModelFactory):
    """A draft A/B test between two versions of one model (a plain protocol; use the
    services to start, end or analyse one)."""

    class Meta:
        model = Experiment

    champion = factory.SubFactory(ModelVersionFactory)
    challenger = factory.SubFactory(
        ModelVersionFactory, model=factory.SelfAttribute("..champion.model")
    )
    use_case = factory.SelfAttribute("champion.model.use_case")
    name = factory.Sequence(lambda n: f"Experiment {n}")
    design = Experiment.Design.AB
    metric_kind = Experiment.MetricKind.PROPORTION
    primary_metric = "click-through"
    population = "Signed-in customers"
    protocol = factory.LazyFunction(
        lambda: {
            "alpha": 0.05,
            "power": 0.8,
            "minimum_effect": 0.02,
            "baseline_proportion": 0.1,
            "split": {"champion": 50, "challenger": 50},
        }
    )
    sample_size = factory.LazyFunction(dict)
    planned_units = 1000
    salt = factory.Sequence(lambda n: f"salt-{n}")
    owner = factory.SelfAttribute("use_case.technical_owner")
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("created_at")


class ScoredDatasetFactory(factory.django.DjangoModelFactory):
    """The row of a stored scored file (no bytes behind it: for lists, not for reads)."""

    class Meta:
        model = ScoredDataset

    model_version = factory.SubFactory(ModelVersionFactory)
    purpose = ScoredDataset.Purpose.EVALUATION
    file = factory.Sequence(lambda n: f"scored/{n}.csv")
    original_name = factory.Sequence(lambda n: f"scores-{n}.csv")
    format = ScoredDataset.Format.CSV
    size_bytes = 1024
    sha256 = factory.Sequence(lambda n: hashlib.sha256(f"scored-{n}".encode()).hexdigest())
    rows = 100
    columns = factory.LazyFunction(lambda: ["id", "ts", "x", "score", "y_hat", "y"])
    mapping = factory.LazyFunction(lambda: {"outcome": "y", "prediction": "y_hat"})
    uploaded_by = factory.SelfAttribute("model_version.registered_by")
    uploaded_at = factory.LazyFunction(timezone.now)


class BiasSummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BiasSummary

    dataset = factory.SubFactory(ScoredDatasetFactory)
    options = factory.LazyFunction(lambda: {"reference": "best", "min_group_size": 30})
    fingerprint = factory.Sequence(lambda n: hashlib.sha256(f"summary-{n}".encode()).hexdigest())
    rows_total = 100
    requested_by = factory.SelfAttribute("dataset.uploaded_by")
    requested_at = factory.LazyFunction(timezone.now)


class MonitoringConfigFactory(factory.django.DjangoModelFactory):
    """A version's monitoring of one numeric feature against a reference dataset."""

    class Meta:
        model = MonitoringConfig

    model_version = factory.SubFactory(ModelVersionFactory)
    reference = factory.SubFactory(
        ScoredDatasetFactory,
        model_version=factory.SelfAttribute("..model_version"),
        purpose=ScoredDataset.Purpose.REFERENCE,
    )
    numeric_features = factory.LazyFunction(lambda: ["x"])
    prediction_column = "y_hat"
    timestamp_column = "ts"
    cadence = "weekly"
    thresholds = factory.LazyFunction(lambda: {"psi_max": 0.2})
    created_by = factory.SelfAttribute("model_version.registered_by")
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("created_at")


class MonitoringWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonitoringWindow

    config = factory.SubFactory(MonitoringConfigFactory)
    start = factory.Sequence(
        lambda n: dt.datetime(2025, 1, 6, tzinfo=dt.UTC) + dt.timedelta(weeks=n)
    )
    end = factory.LazyAttribute(lambda w: w.start + dt.timedelta(weeks=1))
    cadence = "weekly"
    status = "ok"
    rows = 100
    computed_at = factory.LazyFunction(timezone.now)


class DriftAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DriftAlert

    config = factory.SubFactory(MonitoringConfigFactory)
    window = factory.SubFactory(MonitoringWindowFactory, config=factory.SelfAttribute("..config"))
    last_window = factory.SelfAttribute("window")
    feature = "x"
    kind = DriftAlert.Kind.INPUT
    message = "x drifted (PSI 0.31 over 0.2)."
    opened_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("opened_at")


class ObligationFactory(factory.django.DjangoModelFactory):
    """An active, open obligation of a use case under the seeded published policy (one
    per use case and consideration while active: give each its own use case or
    consideration)."""

    class Meta:
        model = Obligation

    use_case = factory.SubFactory(UseCaseFactory)
    consideration = factory.LazyFunction(lambda: Consideration.objects.order_by("order").first())
    level = "medium"
    text = "Keep the evidence on file."
    why = "Policy v1, tier medium."
    policy_version = factory.LazyFunction(
        lambda: (
            PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED)
            .order_by("-number")
            .first()
        )
    )
    owner = factory.SelfAttribute("use_case.business_owner")
    due_date = factory.LazyFunction(lambda: timezone.now().date() + dt.timedelta(days=30))
    created_at = factory.LazyFunction(timezone.now)


def user_with_role(role: str, *, teams=(), **kwargs) -> User:
    return UserFactory(roles=[role], teams=list(teams), **kwargs)


def api_token_for(user) -> str:
    """The secret of an API token for ``user``: one per user and test (tokens are
    stored hashed, so the secret is kept on the user object for later clients)."""
    from accounts.services import api_token_create

    secret = getattr(user, "_test_api_token", None)
    if secret is None:
        _, secret = api_token_create(user=user, name="test")
        user._test_api_token = secret
    return secret


def confirmed_classification(use_case, *, by, answers=None):
    """A classification at the use case's current tier and a risk officer's
    confirmation of it (issue 12: High and Critical need one past QA), written
    directly: tests of other parts start from a confirmed class."""
    from django.utils import timezone

    from governance.models import Classification, ClassificationConfirmation

    classification = Classification.objects.create(
        use_case=use_case,
        answers=answers if answers is not None else full_answers(),
        criticality=use_case.criticality or 3,
        risk_tier=use_case.risk_tier,
        reasons=[],
        rules_fingerprint="test",
        classified_at=timezone.now(),
    )
    return ClassificationConfirmation.objects.create(
        classification=classification,
        use_case=use_case,
        risk_tier=use_case.risk_tier,
        confirmed_by=by,
        printed_name=by.get_username(),
        confirmed_at=timezone.now(),
    )


def validator_user(username: str = "validator") -> User:
    """A validator from outside every team (independent of any use case's team)."""
    return user_with_role(Role.VALIDATOR, username=username)


def signed_validation(
    version, *, by=None, conclusion="approve", findings=(), auth_method="test fixture"
):
    """A validation of ``version`` recorded and signed (without a password: the test
    stands for the re-authentication) by ``by`` (a new independent validator by
    default), through the services, so its findings are opened as when signed."""
    from reviews.services.validation import validation_record, validation_sign_unchecked

    by = by or validator_user()
    validation = validation_record(
        version=version,
        by=by,
        scope="The model, its training data and its hold-out evaluation.",
        conceptual_soundness="Gradient boosting suits the tabular features.",
        data="Training data reviewed for leakage and coverage.",
        outcomes_analysis="Back-tested on the last two quarters; AUC stable.",
        limitations="Not for applicants outside the training population.",
        conclusion=conclusion,
        findings_raised=[{"title": t, "detail": ""} for t in findings],
    )
    return validation_sign_unchecked(validation=validation, by=by, auth_method=auth_method)


def full_answers(**overrides):
    """A complete, valid set of Step 1 answers (a low-risk ad-hoc analysis)."""
    answers = {
        "audience": "internal_team",
        "availability": "adhoc",
        "error_impact": [],
        "release_cadence": "rarely",
        "model_lifetime": "one_off",
        "impact_lifetime": "immediate",
        "decay_rate": "slow",
        "explainability": "none",
        "eu_ai_act_prohibited": [],
        "eu_ai_act_annex_iii": [],
        "sector_purpose": [],
    }
    answers.update(overrides)
    return answers


__all__ = [
    "confirmed_classification",
    "PASSWORD",
    "BiasSummaryFactory",
    "DriftAlertFactory",
    "ExperimentFactory",
    "FindingFactory",
    "GateCallFactory",
    "MonitoringConfigFactory",
    "MonitoringWindowFactory",
    "ObligationFactory",
    "PromotionRequestFactory",
    "ScoredDatasetFactory",
    "DatasetColumnFactory",
    "DatasetFactory",
    "MLModelFactory",
    "ModelVersionFactory",
    "Role",
    "TeamFactory",
    "UseCaseFactory",
    "UserFactory",
    "full_answers",
    "signed_validation",
    "validator_user",
    "user_with_role",
]


def remediate_and_verify(finding, *, owner_side, verifier, close_by=None):
    """Take a finding through its flow with the services: remediated by ``owner_side``
    (its owner or the model's team), verified by ``verifier`` (the second line), and
    closed by ``close_by`` when given. Returns the finding as stored."""
    from reviews.services import findings as findings_svc

    findings_svc.finding_remediate(finding=finding, by=owner_side, note="Fixed and re-tested.")
    findings_svc.finding_verify(finding=finding, by=verifier, note="Checked the re-test.")
    if close_by is not None:
        findings_svc.finding_close(finding=finding, by=close_by, note="Verified; closing.")
    finding.refresh_from_db()
    return finding
