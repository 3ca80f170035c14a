"""The gate answers a repeated question from its cache (issue 13), and any change to what
the answer was computed from makes the next call compute again, whoever makes it and
however: through the pages and services, with a bulk ``update()`` that sends no signal,
by raw SQL, in the shared framework, or by the calendar. Tried as the governed user who
hopes a stale "allowed" outlives the change."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from governance.models import RiskQuestionOption
from inventory.models import ModelVersion, UseCase
from reviews.gate_revisions import SCOPES
from reviews.models import GateCall, GateRevision
from reviews.selectors import revision_cache as gate_cache
from reviews.services import findings as findings_svc
from reviews.services import promotion as svc
from tests.factories import ModelVersionFactory, UseCaseFactory
from tests.reviews.signoff_world import PASSWORD
from tests.reviews.test_gate import approved, ask_gate, codes, in_production  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache(settings):
    settings.GATE_CACHE_ENTRIES = 4096
    gate_cache.cache_clear()
    yield
    gate_cache.cache_clear()


def answer(api, version, environment="qa"):
    response = ask_gate(api, model_version=version.pk, environment=environment)
    assert response.status_code == 200
    return response.json()


def stats():
    return gate_cache.cache_stats()


def test_a_repeated_question_is_answered_from_the_cache_and_still_logged(
    approved,  # noqa: F811
    api_client_for,
    data_ops,
    django_assert_max_num_queries,
):
    use_case, version, req = approved
    api = api_client_for(data_ops)
    first = answer(api, version)
    assert stats()["misses"] == 1 and stats()["hits"] == 0
    # Authentication, the caller's role, the version, the tokens, the log row.
    with django_assert_max_num_queries(8):
        second = answer(api, version)
    assert stats()["hits"] == 1
    for key in ("allowed", "reasons", "warnings", "request", "model_version"):
        assert second[key] == first[key]
    assert second["allowed"] is True and second["request"] == req.pk
    calls = list(GateCall.objects.order_by("id"))
    assert len(calls) == 2 and calls[1].request_id == req.pk and calls[1].allowed


def test_revoking_on_the_page_blocks_the_very_next_call(
    approved,  # noqa: F811
    api_client_for,
    client_for,
    data_ops,
    governance_lead,
):
    use_case, version, req = approved
    api = api_client_for(data_ops)
    assert answer(api, version)["allowed"] and answer(api, version)["allowed"]
    assert stats()["hits"] == 1
    client_for(governance_lead).post(
        reverse("reviews:request-revoke", args=[req.pk]),
        {"reason": "Scored on the wrong population.", "password": PASSWORD},
    )
    after = answer(api, version)
    assert after["allowed"] is False and "approval-revoked" in codes_of(after)


def codes_of(body):
    return [r["code"] for r in body["reasons"]]


def test_a_bulk_update_without_signals_is_seen(approved, api_client_for, data_ops):  # noqa: F811
    """``QuerySet.update()`` sends no signal: the database's trigger still moves the token."""
    use_case, version, req = approved
    api = api_client_for(data_ops)
    assert answer(api, version)["allowed"]
    ModelVersion.objects.filter(pk=version.pk).update(environment="retired")
    after = answer(api, version)
    assert after["allowed"] is False and "retired" in codes_of(after)


def test_raw_sql_on_the_use_case_is_seen(approved, api_client_for, data_ops):  # noqa: F811
    use_case, version, req = approved
    api = api_client_for(data_ops)
    assert answer(api, version)["allowed"]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_usecase SET status = 'retired' WHERE id = %s", [use_case.pk]
        )
    after = answer(api, version)
    assert after["allowed"] is False and "retired" in codes_of(after)


def test_a_finding_opened_after_a_cached_answer_shows_at_once(
    approved,  # noqa: F811
    api_client_for,
    data_ops,
    risk_officer,
):
    use_case, version, req = approved
    api = api_client_for(data_ops)
    assert answer(api, version)["warnings"] == []
    finding, _ = findings_svc.finding_open(
        version=version, by=risk_officer, title="Drift in income"
    )
    after = answer(api, version)
    assert after["allowed"] is True
    assert [w["finding"] for w in after["warnings"]] == [finding.pk]


def test_a_change_to_the_shared_framework_recomputes_every_answer(
    approved,  # noqa: F811
    api_client_for,
    data_ops,
):
    use_case, version, req = approved
    api = api_client_for(data_ops)
    answer(api, version)
    option = RiskQuestionOption.objects.first()
    RiskQuestionOption.objects.filter(pk=option.pk).update(label=option.label + " ")
    answer(api, version)
    assert stats() == {"hits": 0, "misses": 2, "entries": 2}


def test_a_change_in_another_use_case_leaves_this_answer_cached(
    approved,  # noqa: F811
    api_client_for,
    data_ops,
):
    use_case, version, req = approved
    other = UseCaseFactory()  # (its owner is a new user: a shared row)
    api = api_client_for(data_ops)
    answer(api, version)
    ModelVersionFactory(model__use_case=other)
    UseCase.objects.filter(pk=other.pk).update(name="Another use case, renamed")
    answer(api, version)
    assert stats()["hits"] == 1


def test_the_calendar_is_in_the_key(approved, api_client_for, data_ops, settings, monkeypatch):  # noqa: F811
    """A periodic review goes past its grace with no write at all: the next day's call
    computes again."""
    use_case, version, req = approved
    settings.PERIODIC_REVIEW_GRACE_DAYS = 30
    in_production(version, req, days_ago=182 + 30)  # the last day of the grace
    api = api_client_for(data_ops)
    assert "periodic-review-overdue" not in codes_of(answer(api, version, "prod"))
    assert "periodic-review-overdue" not in codes_of(answer(api, version, "prod"))
    assert stats()["hits"] == 1
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    assert "periodic-review-overdue" in codes_of(answer(api, version, "prod"))


def test_an_answer_read_from_a_table_without_a_trigger_is_not_cached(
    approved,  # noqa: F811
    api_client_for,
    data_ops,
    monkeypatch,
):
    """Should a selector start reading a table the triggers do not cover, the gate
    computes every answer rather than keep one it cannot invalidate."""
    use_case, version, req = approved
    monkeypatch.setattr(gate_cache, "COVERED", gate_cache.COVERED - {"reviews_signature"})
    api = api_client_for(data_ops)
    answer(api, version)
    answer(api, version)
    assert stats() == {"hits": 0, "misses": 2, "entries": 0}


def test_without_tokens_the_gate_computes(approved, api_client_for, data_ops):  # noqa: F811
    use_case, version, req = approved
    GateRevision.objects.all().delete()
    api = api_client_for(data_ops)
    assert answer(api, version)["allowed"] and answer(api, version)["allowed"]
    assert stats()["entries"] == 0


def test_every_table_the_gate_reads_has_a_trigger(approved):  # noqa: F811
    """The answers of every environment, for an approved, a retired and an unknown
    environment: each table they read moves a token when written."""
    from reviews.selectors.gate import gate_decision

    use_case, version, req = approved
    read = set()
    for environment in ("dev", "qa", "preprod", "prod", "elsewhere"):
        with gate_cache._recording() as tables:
            gate_decision(version, environment)
        read |= tables
    assert read and read <= set(SCOPES), read - set(SCOPES)


def test_every_trigger_finds_its_scope(approved):  # noqa: F811
    """Each trigger fires without error on an update of one of its rows and moves the
    token of the row's use case (or the shared one). Append-only tables refuse updates;
    their insert triggers ran when the fixture wrote them."""
    from audit.db_guard import append_only_tables

    guarded = set(append_only_tables())
    fired = 0
    with connection.cursor() as cursor:
        for table, scope in SCOPES.items():
            if table in guarded:
                continue
            cursor.execute(f'SELECT id FROM "{table}" ORDER BY id LIMIT 1')  # noqa: S608
            row = cursor.fetchone()
            if row is None:
                continue
            before = dict(GateRevision.objects.values_list("scope", "token"))
            try:
                with transaction.atomic():
                    cursor.execute(f'UPDATE "{table}" SET id = id WHERE id = %s', [row[0]])  # noqa: S608
            except DatabaseError as refused:  # a frozen row (a published policy version)
                assert "frozen" in str(refused), (table, refused)
                continue
            after = dict(GateRevision.objects.values_list("scope", "token"))
            moved = {s for s, token in after.items() if before.get(s) != token}
            assert moved, table
            if scope is not None:
                assert moved - {0}, (table, "no use case found")
            fired += 1
    assert fired >= 15


# --- Request states read by "my pending approvals" ------------------------------------


def test_pending_approvals_come_from_the_cache_until_the_state_changes(
    world, data_scientist, risk_officer, approver, client_for
):
    """The state of a request someone has signed is computed once per state of what it
    reads; making the signer an author of the version (segregation of duties) takes the
    request off their list at the next view."""
    use_case, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="QA run")
    svc.request_sign(request=req, by=approver, password=PASSWORD, meaning="approved")
    page = client_for(risk_officer)
    url = reverse("reviews:pending")

    def to_sign():
        response = page.get(url)
        assert response.status_code == 200
        return [r.pk for r, _ in response.context["to_sign"]]

    assert to_sign() == [req.pk]
    assert to_sign() == [req.pk]
    assert stats_of("states")["hits"] >= 1
    version.authors.add(risk_officer)
    assert to_sign() == []


def stats_of(which):
    return gate_cache.cache_stats(which)


def test_while_the_triggers_are_lifted_nothing_is_cached(
    owner_connection,
    approved,  # noqa: F811
    api_client_for,
    data_ops,
):
    """A migration (``pre_migrate``) drops the triggers, and the tokens with them: no
    answer may come from a token that no longer moves; ``post_migrate`` puts both back.
    (DDL: as the tables' owner, who migrates.)"""
    from reviews.gate_revisions import revision_triggers_lifted

    use_case, version, req = approved
    api = api_client_for(data_ops)
    with revision_triggers_lifted(connection):
        assert not GateRevision.objects.exists()
        assert answer(api, version)["allowed"]
        ModelVersion.objects.filter(pk=version.pk).update(environment="retired")
        after = answer(api, version)
        assert after["allowed"] is False and "retired" in codes_of(after)
        assert stats()["entries"] == 0
    assert GateRevision.objects.filter(scope=use_case.pk).exists()
    before = GateRevision.objects.get(scope=use_case.pk).token
    ModelVersion.objects.filter(pk=version.pk).update(environment="qa")
    assert GateRevision.objects.get(scope=use_case.pk).token != before
