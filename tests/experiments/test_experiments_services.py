"""Pre-registered experiments (issue #7): protocol validation and sample size, the
signature that starts and locks, outcomes (all or nothing), the end, the analysis
(data quality, then the registered test, equal to statsmodels), the signed result as
preproduction evidence bound into a promotion request's manifest."""

from datetime import timedelta
from unittest import mock

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportions_ztest

from accounts.roles import Role
from core import experiment_stats as st
from core import promotion_rules as rules
from experiments import selectors as esel
from experiments import services as svc
from experiments.models import Experiment, ExperimentOutcome, ProtocolLockedError
from notifications.services import notifications_about
from reviews.models import Signature
from reviews.selectors.promotion import request_state
from reviews.services import promotion as psvc
from tests.factories import ModelVersionFactory, UseCaseFactory, user_with_role
from tests.reviews.signoff_world import PASSWORD, obligation, with_password

pytestmark = pytest.mark.django_db

AB = {
    "alpha": 0.05,
    "power": 0.8,
    "minimum_effect": 0.2,
    "baseline_proportion": 0.3,
    "split": {"champion": 50, "challenger": 50},
    "daily_traffic": 40,
}
SHADOW = {
    "alpha": 0.05,
    "power": 0.8,
    "minimum_effect": 0.1,
    "baseline_proportion": 0.7,
    "discordant_proportion": 0.3,
    "daily_traffic": 100,
}


# --- helpers shared by the view and API tests ------------------------------------------------


def draft(use_case, champion, challenger, by, *, design="ab", protocol=None, **kw):
    fields = {
        "name": "Ranking v2 click-through",
        "primary_metric": "click-through per customer",
        "population": "Signed-in customers in the EU app",
        "metric_kind": "proportion",
        "splitting": "hash",
        "entity_key_name": "customer_id",
        **kw,
    }
    experiment = svc.experiment_create(
        use_case=use_case,
        by=by,
        champion=champion,
        challenger=challenger,
        design=design,
        protocol=dict(protocol or (AB if design == "ab" else SHADOW)),
        **fields,
    )
    # a fixed salt (allowed on a draft) makes the assignments, hence the tests, repeatable
    Experiment.objects.filter(pk=experiment.pk).update(salt=f"test-salt-{experiment.pk}")
    experiment.refresh_from_db()
    return experiment


def ab_rows(experiment, n, p_champion, p_challenger, seed=7, start=0):
    """n units with outcomes, each in the arm its key is assigned to."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(start, start + n):
        key = f"c{i}"
        arm = st.assign_arm(experiment.salt, key, experiment.protocol["split"])
        p = p_champion if arm == "champion" else p_challenger
        rows.append({"entity_key": key, "arm": arm, "outcome": int(rng.random() < p)})
    return rows


def fill_ab(experiment, p_champion=0.3, p_challenger=0.7, seed=7):
    """Enough units that every arm reaches its planned maximum."""
    planned = max(experiment.sample_size["maximum"].values())
    n, rows = 2 * planned, []
    while True:
        rows = ab_rows(experiment, n, p_champion, p_challenger, seed)
        counts = {a: sum(r["arm"] == a for r in rows) for a in st.ARMS}
        if all(counts[a] >= experiment.sample_size["maximum"][a] for a in st.ARMS):
            return rows
        n = int(n * 1.2)


def shadow_rows(experiment, n, p_champion=0.7, p_challenger=0.8, seed=3):
    rng = np.random.default_rng(seed)
    a = rng.random(n) < p_champion
    b = np.where(rng.random(n) < 0.6, a, rng.random(n) < p_challenger)
    return [
        {"entity_key": f"t{i}", "champion_outcome": int(x), "challenger_outcome": int(y)}
        for i, (x, y) in enumerate(zip(a, b, strict=True))
    ]


def start(experiment, by):
    return svc.experiment_start(experiment=experiment, by=by, password=PASSWORD)


def analysed(experiment, by, rows):
    """Start, feed, end at the planned end date (as beat does) and analyse."""
    start(experiment, by)
    svc.outcomes_record(experiment=experiment, by=by, rows=rows)
    experiment.refresh_from_db()
    svc.experiments_check(now=experiment.planned_end)
    svc.experiment_analyse(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    return experiment


# --- the protocol -----------------------------------------------------------------------------


def test_a_draft_carries_the_sample_size_and_duration_of_its_protocol(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    expected = st.sample_size(
        st.validate_protocol({"design": "ab", "metric_kind": "proportion", **AB})
    )
    assert experiment.status == "draft"
    assert experiment.sample_size == expected.to_dict()
    assert experiment.planned_units == expected.total
    assert experiment.planned_days == expected.duration_days_ceil
    assert experiment.protocol["split"] == {"champion": 50.0, "challenger": 50.0}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"power": 1.0}, "power"),
        ({"power": -0.2}, "power"),
        ({"minimum_effect": 0}, "minimum_effect"),
        ({"split": {"champion": 60, "challenger": 50}}, "split"),
        ({"split": {"champion": 100, "challenger": 0}}, "split.champion"),
        ({"baseline_proportion": None}, "baseline_proportion"),
        ({"alpha": "0.05"}, "alpha"),
        ({"interim_looks": [0.5, 0.4]}, "interim_looks"),
        ({"guardrails": [{"name": "", "metric_kind": "mean"}]}, "guardrails[0].name"),
        ({"colour": "blue"}, "colour"),
        ({"daily_traffic": 0.001}, "daily_traffic"),
        ({"minimum_effect": 1e-7, "baseline_proportion": 0.5}, "minimum_effect"),
    ],
)
def test_a_bad_protocol_names_its_field_and_writes_nothing(arms, data_scientist, change, field):
    use_case, champion, challenger = arms
    with pytest.raises(ValidationError) as exc:
        draft(use_case, champion, challenger, data_scientist, protocol={**AB, **change})
    assert field in exc.value.message_dict
    assert not Experiment.objects.exists()


def test_the_arms_must_be_two_versions_of_the_use_case(arms, data_scientist, team):
    use_case, champion, challenger = arms
    with pytest.raises(ValidationError) as exc:
        draft(use_case, champion, champion, data_scientist)
    assert "must be different" in exc.value.message_dict["challenger"][0]
    other = ModelVersionFactory(model__use_case=UseCaseFactory(team=team))
    with pytest.raises(ValidationError) as exc:
        draft(use_case, other, challenger, data_scientist)
    assert "this use case" in exc.value.message_dict["champion"][0]
    assert not Experiment.objects.exists()


def test_only_the_team_and_governance_leads_run_experiments(
    arms, risk_officer, other_data_scientist, governance_lead
):
    use_case, champion, challenger = arms
    for user in (risk_officer, other_data_scientist):
        with pytest.raises(PermissionDenied):
            draft(use_case, champion, challenger, user)
    assert draft(use_case, champion, challenger, governance_lead).owner == governance_lead


# --- start and lock ------------------------------------------------------------------------------


def test_starting_signs_the_protocol_with_the_password_and_locks_it(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    with pytest.raises(PermissionDenied):
        svc.experiment_start(
            experiment=experiment, by=data_scientist, password=PASSWORD, via_token=True
        )
    with pytest.raises(ValidationError):
        svc.experiment_start(experiment=experiment, by=data_scientist, password="wrong")
    experiment.refresh_from_db()
    assert experiment.status == "draft" and not experiment.signatures.exists()

    signature = start(experiment, data_scientist)
    experiment.refresh_from_db()
    assert experiment.status == "running"
    assert signature.meaning == Signature.Meaning.PROTOCOL_LOCKED
    assert signature.auth_method == "password re-entry"
    assert signature.manifest == esel.protocol_document(experiment)
    assert signature.manifest_hash == experiment.protocol_sha256
    assert experiment.protocol_sha256 == rules.manifest_hash(esel.protocol_document(experiment))
    assert experiment.planned_end is not None

    with pytest.raises(ValidationError, match="locked"):
        svc.experiment_update(experiment=experiment, by=data_scientist, name="Renamed")
    with pytest.raises(ValidationError):
        start(experiment, data_scientist)
    # the model refuses too, whatever the caller
    experiment.protocol = {**experiment.protocol, "alpha": 0.1}
    with pytest.raises(ProtocolLockedError):
        experiment.save()
    with pytest.raises(ProtocolLockedError):
        Experiment.objects.filter(pk=experiment.pk).update(name="x")
    fresh = Experiment.objects.get(pk=experiment.pk)
    assert fresh.protocol["alpha"] == 0.05 and fresh.name == "Ranking v2 click-through"


def test_a_draft_is_edited_and_audited(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    svc.experiment_update(
        experiment=experiment, by=data_scientist, protocol={**AB, "minimum_effect": 0.1}
    )
    experiment.refresh_from_db()
    assert experiment.protocol["minimum_effect"] == 0.1
    from audit.models import AuditEvent

    actions = set(
        AuditEvent.objects.filter(object_id=str(experiment.pk)).values_list("action", flat=True)
    )
    assert {"experiment.created", "experiment.updated"} <= actions


def test_abandoning_needs_a_reason_and_only_from_draft_or_running(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    with pytest.raises(ValidationError):
        svc.experiment_abandon(experiment=experiment, by=data_scientist, reason=" ")
    svc.experiment_abandon(experiment=experiment, by=data_scientist, reason="Traffic bug")
    experiment.refresh_from_db()
    assert experiment.status == "abandoned" and experiment.abandon_reason == "Traffic bug"
    with pytest.raises(ValidationError):
        svc.experiment_abandon(experiment=experiment, by=data_scientist, reason="again")


# --- outcomes -------------------------------------------------------------------------------


def test_outcomes_are_validated_first_and_written_all_or_nothing(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    good = ab_rows(experiment, 20, 0.3, 0.5)
    with pytest.raises(ValidationError):  # not running yet
        svc.outcomes_record(experiment=experiment, by=data_scientist, rows=good)
    start(experiment, data_scientist)
    wrong_arm = dict(good[0], arm="challenger" if good[0]["arm"] == "champion" else "champion")
    bad_rows = [
        (dict(good[0], arm="treatment"), "unknown arm"),
        (wrong_arm, "is assigned to the"),
        (dict(good[0], outcome="yes"), "not a number"),
        (dict(good[0], outcome=0.5), "0 or 1"),
        (dict(good[0], entity_key=""), "unknown unit"),
        (dict(good[0], guardrails={"latency": 3}), "not a registered guardrail"),
    ]
    for bad, message in bad_rows:
        with pytest.raises(ValidationError) as exc:
            svc.outcomes_record(experiment=experiment, by=data_scientist, rows=[*good, bad])
        assert message in exc.value.message_dict["rows"][0]
        assert f"Row {len(good) + 1}" in exc.value.message_dict["rows"][0]
    assert not ExperimentOutcome.objects.exists()
    batch = svc.outcomes_record(experiment=experiment, by=data_scientist, rows=good)
    assert batch.rows == 20 == ExperimentOutcome.objects.count()


def test_a_csv_upload_reports_its_lines_and_columns(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    rows = ab_rows(experiment, 3, 0.3, 0.5)
    body = "entity_key,arm,outcome\n" + "".join(
        f"{r['entity_key']},{r['arm']},{r['outcome']}\n" for r in rows
    )
    with pytest.raises(ValidationError) as exc:
        svc.outcomes_upload_csv(
            experiment=experiment, by=data_scientist, data=(body + "x9,nobody,1\n").encode()
        )
    assert exc.value.message_dict["file"][0].startswith("Line 5:")
    with pytest.raises(ValidationError, match="Missing column"):
        svc.outcomes_upload_csv(experiment=experiment, by=data_scientist, data=b"key,arm\n1,a\n")
    assert not ExperimentOutcome.objects.exists()
    batch = svc.outcomes_upload_csv(experiment=experiment, by=data_scientist, data=body.encode())
    assert batch.source == "csv" and batch.rows == 3


def test_assignment_is_deterministic_and_only_while_running(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    with pytest.raises(ValidationError):
        svc.experiment_assign(experiment=experiment, key="c1")
    start(experiment, data_scientist)
    experiment.refresh_from_db()
    first = [svc.experiment_assign(experiment=experiment, key=f"c{i}") for i in range(200)]
    again = [svc.experiment_assign(experiment=experiment, key=f"c{i}") for i in range(200)]
    assert first == again
    assert first == [st.assign_arm(experiment.salt, f"c{i}", AB["split"]) for i in range(200)]


# --- end, analysis, result ------------------------------------------------------------------------


def test_beat_ends_at_the_later_of_the_end_date_and_the_sample_size_and_mails_once(
    arms, data_scientist, django_capture_on_commit_callbacks
):
    # Issue 14: the demo's experiment ended on day 0 of 15 planned days.
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    experiment.refresh_from_db()
    assert experiment.duration_days % 7 == 0 and experiment.duration_days >= 7
    assert experiment.duration_days >= experiment.planned_days
    end = experiment.planned_end
    assert (end - experiment.started_at).days == experiment.duration_days
    rows = fill_ab(experiment)
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=rows[:10])
    assert svc.experiments_check(now=end) == {"ended": [], "analyse": []}  # sample short
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=rows[10:])
    before_end = end - timedelta(seconds=1)
    assert svc.experiments_check(now=before_end) == {"ended": [], "analyse": []}  # date
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = svc.experiments_check(now=end)
    assert outcome == {"ended": [experiment.pk], "analyse": [experiment.pk]}
    assert len(callbacks) == 1  # the e-mail, after commit
    experiment.refresh_from_db()
    assert experiment.status == "ended" and "end date" in experiment.end_reason
    assert "sample size" in experiment.end_reason
    assert svc.experiments_check(now=end) == {"ended": [], "analyse": [experiment.pk]}
    notes = notifications_about(experiment)
    assert list(notes.values_list("kind", "recipient")) == [("experiment_ended", data_scientist.pk)]


def test_outcomes_completing_a_test_past_its_end_date_end_it_and_queue_the_analysis(
    arms, data_scientist, django_capture_on_commit_callbacks
):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    rows = fill_ab(experiment)
    Experiment.objects.filter(pk=experiment.pk).update(
        started_at=timezone.now() - timedelta(days=30),
        planned_end=timezone.now() - timedelta(days=1),
    )
    experiment.refresh_from_db()
    with (
        mock.patch("experiments.services.lifecycle.enqueue") as queued,
        django_capture_on_commit_callbacks(execute=False),
    ):
        svc.outcomes_record(experiment=experiment, by=data_scientist, rows=rows)
    experiment.refresh_from_db()
    assert experiment.status == "ended"
    assert queued.call_args.kwargs["kwargs"] == {"experiment_id": experiment.pk}


def test_the_analysis_equals_statsmodels_and_runs_once(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    rows = fill_ab(experiment)
    assert esel.visible_result(experiment)["available"] is False
    experiment = analysed(experiment, data_scientist, rows)
    assert experiment.status == "analysed"
    result = experiment.result
    counts = {a: [r["outcome"] for r in rows if r["arm"] == a] for a in st.ARMS}
    z, p = proportions_ztest(
        [sum(counts["challenger"]), sum(counts["champion"])],
        [len(counts["challenger"]), len(counts["champion"])],
    )
    assert result["test"]["statistic"] == pytest.approx(z, abs=1e-9)
    assert result["test"]["p_value"] == pytest.approx(p, abs=1e-9)
    assert result["data_quality_passed"] is True
    assert result["srm_verdict"].startswith("no sample-ratio mismatch")
    assert result["verdict"] == "Challenger better"
    assert result["arms"]["challenger"]["n"] == len(counts["challenger"])
    before = (experiment.result_sha256, experiment.analysed_at)
    assert svc.experiment_analyse(experiment_id=experiment.pk)["done"] == "already analysed"
    experiment.refresh_from_db()
    assert (experiment.result_sha256, experiment.analysed_at) == before
    assert notifications_about(experiment).count() == 2


def test_duplicated_units_are_counted_not_merged(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    rows = fill_ab(experiment)
    experiment = analysed(experiment, data_scientist, [*rows, rows[0], rows[1]])
    assert ExperimentOutcome.objects.count() == len(rows) + 2
    units = experiment.result["data_quality"]["units"]
    assert sum(units["duplicated"].values()) == 2
    assert experiment.result["verdict"].startswith("Not valid: 0.90% of units have duplicated")
    assert experiment.result["valid"] is False


def test_a_shadow_comparison_runs_mcnemar(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(
        use_case, champion, challenger, data_scientist, design="shadow", name="Shadow scoring"
    )
    n = experiment.sample_size["maximum"]["pairs"]
    rows = shadow_rows(experiment, n)
    experiment = analysed(experiment, data_scientist, rows)
    a = np.array([r["champion_outcome"] for r in rows], bool)
    b = np.array([r["challenger_outcome"] for r in rows], bool)
    table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    reference = mcnemar(table, exact=True)
    assert experiment.result["test"]["p_value"] == pytest.approx(reference.pvalue, abs=1e-9)
    assert experiment.result["srm_verdict"].startswith("not applicable")
    with pytest.raises(ValidationError):
        svc.outcomes_record(
            experiment=experiment, by=data_scientist, rows=[dict(rows[0], arm="champion")]
        )


def test_a_sequential_design_takes_its_looks_and_stops_at_a_crossing(arms, data_scientist):
    use_case, champion, challenger = arms
    protocol = {**AB, "interim_looks": [0.5], "daily_traffic": None}
    experiment = draft(use_case, champion, challenger, data_scientist, protocol=protocol)
    start(experiment, data_scientist)
    rows = fill_ab(experiment, 0.3, 0.9)  # an overwhelming effect crosses at the first look
    half = rows[: len(rows) // 2 + 10]
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=half[:20])
    assert svc.experiments_check()["analyse"] == []
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=half[20:])
    assert svc.experiments_check()["analyse"] == [experiment.pk]
    svc.experiment_analyse(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    assert len(experiment.looks) == 1 and experiment.looks[0]["crossed"] is True
    assert experiment.status == "analysed" and "interim look 1" in experiment.end_reason
    assert experiment.result["sequential"]["stopped_at"] == 1
    assert experiment.result["verdict"] == "Challenger better"


def test_a_look_that_does_not_cross_continues_without_showing_the_result(arms, data_scientist):
    use_case, champion, challenger = arms
    protocol = {**AB, "interim_looks": [0.5], "daily_traffic": None}
    experiment = draft(use_case, champion, challenger, data_scientist, protocol=protocol)
    start(experiment, data_scientist)
    rows = fill_ab(experiment, 0.3, 0.3)
    svc.outcomes_record(experiment=experiment, by=data_scientist, rows=rows[: len(rows) // 2 + 10])
    svc.experiment_analyse(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    assert experiment.status == "running" and len(experiment.looks) == 1
    assert experiment.looks[0]["decision"] == st.CONTINUE
    assert esel.visible_result(experiment)["available"] is False
    svc.experiment_analyse(experiment_id=experiment.pk)  # the same look is not taken twice
    experiment.refresh_from_db()
    assert len(experiment.looks) == 1


def test_the_signed_result_is_evidence_bound_into_the_challengers_request(
    arms, data_scientist, risk_officer
):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    experiment = analysed(experiment, data_scientist, fill_ab(experiment))
    with pytest.raises(PermissionDenied):
        svc.experiment_result_sign(experiment=experiment, by=risk_officer, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        svc.experiment_result_sign(
            experiment=experiment, by=data_scientist, password=PASSWORD, via_token=True
        )
    signed = svc.experiment_result_sign(experiment=experiment, by=data_scientist, password=PASSWORD)
    assert signed.signature.meaning == Signature.Meaning.RESULT_SIGNED
    assert signed.evidence is not None, signed.evidence_error
    experiment.refresh_from_db()
    ob = obligation(use_case, "preproduction-verification", challenger)
    assert ob.status == "evidence_submitted" and ob.evidence_version == challenger
    assert ob.evidence_sha256 == experiment.evidence_sha256
    assert ob.evidence_name == f"experiment-{experiment.pk}-result.json"
    # Bound into the manifest of the move it gates (to production, issue 12).
    from inventory.services import model_version_move

    model_version_move(version=challenger, to_environment="preprod")
    req = psvc.request_create(version=challenger, by=data_scientist, justification="Won the A/B.")
    [bound] = [
        o
        for o in request_state(req).manifest["obligations"]
        if o["key"] == "preproduction-verification"
    ]
    assert bound["evidence_sha256"] == experiment.evidence_sha256
    assert bound["evidence_version"] == challenger.pk
    with pytest.raises(ValidationError, match="already signed"):
        svc.experiment_result_sign(experiment=experiment, by=data_scientist, password=PASSWORD)


def test_a_signature_meaning_of_an_experiment_never_lands_on_a_request(arms, data_scientist):
    """The widened constraint keeps experiment meanings off requests."""
    from django.db import IntegrityError, transaction

    use_case, champion, challenger = arms
    req = psvc.request_create(version=champion, by=data_scientist, justification="QA please.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            request=req,
            signer=data_scientist,
            printed_name="x",
            signed_at=req.requested_at,
            meaning=Signature.Meaning.PROTOCOL_LOCKED,
            manifest={},
            manifest_hash="0" * 64,
        )


def test_a_draft_is_deleted_but_a_started_experiment_is_not(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    other = draft(use_case, champion, challenger, data_scientist)
    start(other, data_scientist)
    svc.experiment_delete(experiment=experiment, by=data_scientist)
    with pytest.raises(ValidationError):
        svc.experiment_delete(experiment=other, by=data_scientist)
    assert list(Experiment.objects.values_list("pk", flat=True)) == [other.pk]


def test_readers_without_the_team_cannot_feed_outcomes(arms, data_scientist):
    use_case, champion, challenger = arms
    experiment = draft(use_case, champion, challenger, data_scientist)
    start(experiment, data_scientist)
    outsider = with_password(user_with_role(Role.APPROVER, username="reader"))
    with pytest.raises(PermissionDenied):
        svc.outcomes_record(experiment=experiment, by=outsider, rows=ab_rows(experiment, 2, 0, 0))
