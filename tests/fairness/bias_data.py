"""Shared by the bias-summary tests (and the browser test): a model version of the
``team`` fixture's use case (the ``version`` fixture, registered in tests/conftest.py)."""

import pytest

from tests.factories import ModelVersionFactory, UseCaseFactory


@pytest.fixture
def version(team):
    return ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
