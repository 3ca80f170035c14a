"""Every table the gate reads for any version of the demo portfolio, in any environment,
has a revision trigger (issue 13: the gate caches an answer only under the tokens of what
it read), and the cached answer is the computed one."""

import pytest

from inventory.models import ModelVersion
from reviews.gate_revisions import SCOPES
from reviews.selectors import revision_cache as gate_cache
from reviews.selectors.gate import gate_decision

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_output")]


def test_the_demo_gate_reads_only_covered_tables_and_caches_the_same_answers(settings):
    settings.GATE_CACHE_ENTRIES = 4096
    gate_cache.cache_clear()
    read = set()
    versions = list(ModelVersion.objects.select_related("model__use_case"))
    for version in versions:
        for environment in ("dev", "qa", "preprod", "prod"):
            with gate_cache._recording() as tables:
                computed = gate_decision(version, environment)
            read |= tables
            gate_cache.decide(version, environment)
            cached = gate_cache.decide(version, environment)
            assert (cached.allowed, cached.reasons, cached.warnings, cached.request_id) == (
                computed.allowed,
                computed.reasons,
                computed.warnings,
                computed.request_id,
            ), (version.pk, environment)
    assert read - set(SCOPES) == set()
    assert gate_cache.cache_stats()["hits"] == 4 * len(versions)
    gate_cache.cache_clear()


def test_the_demo_request_states_read_only_covered_tables(settings):
    from reviews.models import PromotionRequest
    from reviews.selectors.promotion import request_state

    read = set()
    for request in PromotionRequest.objects.select_related("model_version__model__use_case"):
        with gate_cache._recording() as tables:
            request_state(request)
        read |= tables
    assert read and read - set(SCOPES) == set()
