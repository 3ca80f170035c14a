"""factory_boy factories shared by every test package."""

import hashlib

import factory
from django.contrib.auth.models import Group, User

from accounts.roles import Role
from inventory.choices import LifecycleStatus
from inventory.models import Dataset, DatasetColumn, MLModel, ModelVersion, Team, UseCase

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


def user_with_role(role: str, *, teams=(), **kwargs) -> User:
    return UserFactory(roles=[role], teams=list(teams), **kwargs)


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
    }
    answers.update(overrides)
    return answers


__all__ = [
    "PASSWORD",
    "DatasetColumnFactory",
    "DatasetFactory",
    "MLModelFactory",
    "ModelVersionFactory",
    "Role",
    "TeamFactory",
    "UseCaseFactory",
    "UserFactory",
    "full_answers",
    "user_with_role",
]
