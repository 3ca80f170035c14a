"""Shared by the experiment tests (and the browser and worker tests): a champion's
challenger, and the ``arms`` fixture (registered in tests/conftest.py)."""

import pytest

from governance.services import obligations_recompute
from tests.factories import ModelVersionFactory


def challenger_of(version, data_scientist):
    challenger = ModelVersionFactory(
        model=version.model,
        authors=[data_scientist],
        training_data_ref="warehouse://applications/2026-11-01",
    )
    # As registering through the inventory would: the challenger owes its own
    # obligations (issue 12).
    obligations_recompute(use_case=version.model.use_case)
    return challenger


@pytest.fixture
def arms(world, data_scientist):
    use_case, champion = world
    return use_case, champion, challenger_of(champion, data_scientist)
