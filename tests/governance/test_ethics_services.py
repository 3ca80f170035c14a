"""Step 2, the ethical position: default content, versioning, answers, approval,
comparison and the link to classification."""

from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.roles import Role
from core import ethics_rules
from governance.models import (
    Classification,
    EthicsAnswerSet,
    EthicsApproval,
    EthicsQuestion,
    EthicsTemplate,
    RiskQuestion,
    RiskRule,
)
from governance.selectors import (
    classification_answers_display,
    ethics_compare,
    ethics_critical_aspects_for,
    ethics_position_current,
    ethics_position_pending,
    ethics_questions_as_rules,
    ethics_template_get,
    ethics_use_case_latest,
    ethics_version_current,
    risk_question_as_engine,
    use_cases_without_ethics_answers,
)
from governance.services import (
    classification_submit,
    ethics_position_answer,
    ethics_position_approve,
    ethics_question_remove,
    ethics_question_set,
    ethics_use_case_answer,
    ethics_version_draft_create,
    ethics_version_publish_propose,
    use_case_facts,
    use_cases_reclassify_ethics,
)
from governance.tasks import use_cases_reclassify_ethics as reclassify_task
from tests.factories import PASSWORD, UseCaseFactory, full_answers, user_with_role
from tests.governance.four_eyes import ethics_publish
from tests.outbox import published

pytestmark = pytest.mark.django_db

ORG = EthicsTemplate.Scope.ORGANISATION
UC = EthicsTemplate.Scope.USE_CASE
ASPECT_CODES = ["equality", "privacy", "human_rights", "employment", "democracy", "bias"]


def position_answers(**overrides):
    answers = {
        "aspects": ["privacy", "bias", "equality"],
        "critical_aspects": ["bias", "privacy"],
        "psychology": ["manipulation"],
        "financial_stance": "case_by_case",
        "transparency": 4,
        "accountability": "full",
    }
    answers.update(overrides)
    return answers


def use_case_answers(**overrides):
    answers = {
        "aspects": [],
        "psychology": [],
        "financial_impact": "none",
        "transparency": 3,
    }
    answers.update(overrides)
    return answers


@pytest.fixture
def second_lead(db):
    return user_with_role(Role.GOVERNANCE_LEAD, username="lead2")


@pytest.fixture
def approved_position(governance_lead, second_lead):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        ethics_position_approve(answer_set=answer_set, by=second_lead, password=PASSWORD)
    return answer_set


# --- default content -----------------------------------------------------------------


def test_default_questionnaires_ship_as_published_version_1():
    org = ethics_version_current(scope=ORG)
    uc = ethics_version_current(scope=UC)
    assert (org.number, org.status, uc.number, uc.status) == (1, "published", 1, "published")
    questions = {q.code: q for q in ethics_questions_as_rules(version=org)}
    assert list(questions["aspects"].options) == ASPECT_CODES
    assert list(questions["critical_aspects"].options) == ASPECT_CODES
    assert set(questions["psychology"].options) == {
        "human_human",
        "human_ai",
        "deception",
        "manipulation",
        "exploitation",
    }
    assert questions["financial_stance"].kind == "single"
    assert (questions["transparency"].kind, questions["transparency"].scale_min) == ("scale", 1)
    assert questions["transparency"].scale_max == 5 and questions["transparency"].scale_max_label
    assert questions["accountability"].kind == "single"
    assert questions["accountability_notes"].kind == "text"
    uc_questions = {q.code: q for q in ethics_questions_as_rules(version=uc)}
    assert list(uc_questions["aspects"].options) == ASPECT_CODES


def test_default_critical_aspects_question_and_rule():
    question = RiskQuestion.objects.get(source=RiskQuestion.Source.CRITICAL_ASPECTS)
    assert question.kind == "multi" and not question.required
    assert set(risk_question_as_engine(question).options) == set(ASPECT_CODES)
    rule = RiskRule.objects.get(name="Touches an aspect the organisation holds critical")
    assert rule.min_tier == 3 and rule.active
    condition = rule.conditions.get()
    assert condition.operator == "includes_any" and set(condition.values) == set(ASPECT_CODES)
    condition.full_clean()  # the condition fits the question's options


# --- versioning ----------------------------------------------------------------------


def test_published_versions_are_immutable(governance_lead):
    version = ethics_version_current(scope=ORG)
    question = version.questions.get(code="transparency")
    question.text = "Changed"
    with pytest.raises(ValidationError, match="published"):
        question.save()
    with pytest.raises(ValidationError, match="published"):
        question.delete()
    with pytest.raises(ValidationError, match="published"):
        question.version.questions.get(code="aspects").options.first().delete()
    with pytest.raises(ValidationError):
        ethics_question_set(
            version=version, by=governance_lead, code="new", text="New?", kind="text"
        )
    with pytest.raises(ValidationError):
        version.delete()


def test_a_new_version_is_a_copy_and_never_destroys_answers(governance_lead, second_lead):
    template = ethics_template_get(scope=ORG)
    v1 = ethics_version_current(scope=ORG)
    old = ethics_position_answer(answers=position_answers(), by=governance_lead)

    draft = ethics_version_draft_create(template=template, by=governance_lead, note="Add AI")
    assert (draft.number, draft.status) == (2, "draft")
    assert list(draft.questions.values_list("code", flat=True)) == list(
        v1.questions.values_list("code", flat=True)
    )
    with pytest.raises(ValidationError, match="already has a draft"):
        ethics_version_draft_create(template=template, by=governance_lead)
    # Editing the draft leaves version 1 alone.
    ethics_question_set(
        version=draft,
        by=governance_lead,
        code="environment",
        text="Is environmental impact considered?",
        kind="single",
        options=[("yes", "Yes"), ("no", "No")],
    )
    ethics_question_remove(version=draft, by=governance_lead, code="accountability_notes")
    assert ethics_version_current(scope=ORG) == v1
    ethics_publish(version=draft, by=second_lead)

    assert ethics_version_current(scope=ORG) == draft
    assert v1.questions.filter(code="accountability_notes").exists()
    old.refresh_from_db()
    assert old.version == v1 and old.answers["transparency"] == 4
    # Answering the superseded version is refused; the current one works.
    with pytest.raises(ValidationError, match="superseded"):
        ethics_position_answer(answers=position_answers(), by=governance_lead, version=v1)
    new = ethics_position_answer(answers=position_answers(environment="yes"), by=governance_lead)
    assert new.version == draft


def test_publishing_checks_the_draft(governance_lead, data_scientist):
    template = ethics_template_get(scope=UC)
    with pytest.raises(PermissionDenied):
        ethics_version_draft_create(template=template, by=data_scientist)
    draft = ethics_version_draft_create(template=template, by=governance_lead)
    with pytest.raises(ValidationError):
        ethics_question_set(
            version=draft, by=governance_lead, code="x", text="X?", kind="single", options=[]
        )
    with pytest.raises(ValidationError):
        ethics_question_set(
            version=draft,
            by=governance_lead,
            code="x",
            text="X?",
            kind="scale",
            scale_min=5,
            scale_max=1,
        )
    for question in list(draft.questions.all()):
        ethics_question_remove(version=draft, by=governance_lead, code=question.code)
    with pytest.raises(ValidationError, match="at least one question"):
        ethics_version_publish_propose(version=draft, by=governance_lead, note="Empty.")
    with pytest.raises(PermissionDenied):
        ethics_version_publish_propose(version=draft, by=data_scientist, note="Mine.")


# --- answers and approval ------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"mystery": "x"}, "mystery", "Unknown question"),
        ({"critical_aspects": ["bias", "astrology"]}, "critical_aspects", "astrology"),
        ({"financial_stance": "maybe"}, "financial_stance", "not a valid choice"),
        ({"transparency": 6}, "transparency", "from 1 to 5"),
        ({"transparency": 0}, "transparency", "from 1 to 5"),
        ({"transparency": "high"}, "transparency", "whole number"),
        ({"transparency": True}, "transparency", "whole number"),
        ({"accountability": None}, "accountability", "required"),
        ({"aspects": ["bias", "bias"]}, "aspects", "twice"),
        ({"accountability_notes": 12}, "accountability_notes", "text"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(governance_lead, overrides, code, message):
    with pytest.raises(ValidationError) as exc:
        ethics_position_answer(answers=position_answers(**overrides), by=governance_lead)
    assert message in str(exc.value.message_dict[code])
    assert not EthicsAnswerSet.objects.exists()


def test_answers_are_attributable_and_normalised(governance_lead):
    answer_set = ethics_position_answer(
        answers=position_answers(critical_aspects=["privacy", "bias"], accountability_notes="  "),
        by=governance_lead,
        note="Board decision",
    )
    assert answer_set.answered_by == governance_lead and answer_set.answered_at
    assert answer_set.answers["critical_aspects"] == ["privacy", "bias"]
    assert "accountability_notes" not in answer_set.answers
    with pytest.raises(ValidationError, match="append-only"):
        answer_set.save()
    with pytest.raises(ValidationError, match="append-only"):
        answer_set.delete()


def test_only_governance_leads_answer_the_position(risk_officer, data_scientist):
    for user in (risk_officer, data_scientist):
        with pytest.raises(PermissionDenied):
            ethics_position_answer(answers=position_answers(), by=user)


def test_approval_needs_a_second_governance_lead(governance_lead, second_lead, risk_officer):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    assert ethics_position_pending() == answer_set and ethics_position_current() is None
    with pytest.raises(PermissionDenied, match="other than"):
        ethics_position_approve(answer_set=answer_set, by=governance_lead, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        ethics_position_approve(answer_set=answer_set, by=risk_officer, password=PASSWORD)
    assert not EthicsApproval.objects.exists()

    approval = ethics_position_approve(
        answer_set=answer_set, by=second_lead, password=PASSWORD, note="OK"
    )
    assert approval.approved_by == second_lead and approval.approved_at
    assert ethics_position_current() == answer_set and ethics_position_pending() is None
    with pytest.raises(ValidationError, match="already approved"):
        ethics_position_approve(answer_set=answer_set, by=second_lead, password=PASSWORD)
    with pytest.raises(ValidationError, match="append-only"):
        approval.delete()
    assert published("governance.tasks.use_cases_reclassify_ethics") == []  # not before commit


def test_approval_enqueues_the_reclassification_on_commit(
    governance_lead, second_lead, django_capture_on_commit_callbacks
):
    answer_set = ethics_position_answer(answers=position_answers(), by=governance_lead)
    with django_capture_on_commit_callbacks(execute=True):
        ethics_position_approve(answer_set=answer_set, by=second_lead, password=PASSWORD)
    [kwargs] = published("governance.tasks.use_cases_reclassify_ethics")
    assert kwargs["by_id"] == second_lead.pk


def test_only_the_latest_position_can_be_approved(governance_lead, second_lead):
    older = ethics_position_answer(answers=position_answers(), by=governance_lead)
    newer = ethics_position_answer(answers=position_answers(transparency=5), by=governance_lead)
    # Proposing the newer set superseded the older one's proposal.
    with pytest.raises(ValidationError, match="no pending proposal"):
        ethics_position_approve(answer_set=older, by=second_lead, password=PASSWORD)
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        ethics_position_approve(answer_set=newer, by=second_lead, password=PASSWORD)
    assert ethics_position_current() == newer


def test_use_case_answers_need_the_right_to_change_it(
    data_scientist, other_data_scientist, auditor, team
):
    use_case = UseCaseFactory(team=team)
    for user in (other_data_scientist, auditor):
        with pytest.raises(PermissionDenied):
            ethics_use_case_answer(use_case=use_case, answers=use_case_answers(), by=user)
    first = ethics_use_case_answer(use_case=use_case, answers=use_case_answers(), by=data_scientist)
    second = ethics_use_case_answer(
        use_case=use_case, answers=use_case_answers(aspects=["bias"]), by=data_scientist
    )
    assert ethics_use_case_latest(use_case=use_case) == second
    assert EthicsAnswerSet.objects.filter(pk=first.pk).exists()


# --- comparison ----------------------------------------------------------------------


def test_compare_across_versions_matches_question_codes(governance_lead):
    left = ethics_position_answer(answers=position_answers(), by=governance_lead)
    template = ethics_template_get(scope=ORG)
    draft = ethics_version_draft_create(template=template, by=governance_lead)
    ethics_question_set(
        version=draft,
        by=governance_lead,
        code="environment",
        text="Is environmental impact considered?",
        kind="single",
        options=[("yes", "Yes"), ("no", "No")],
    )
    ethics_question_remove(version=draft, by=governance_lead, code="accountability_notes")
    ethics_publish(version=draft, by=governance_lead)
    right = ethics_position_answer(
        answers=position_answers(transparency=5, environment="yes"), by=governance_lead
    )
    rows = {row.code: row for row in ethics_compare(left=left, right=right)}
    assert not rows["aspects"].changed
    assert rows["transparency"].changed
    assert rows["transparency"].left.startswith("4 of 5")
    assert rows["transparency"].right.startswith("5 of 5")
    assert rows["environment"].only_in == "right" and rows["environment"].left == "(not asked)"
    assert rows["accountability_notes"].only_in == "left"
    assert rows["critical_aspects"].left == "Privacy, Bias and discrimination"


def test_compare_is_pure_and_handles_missing_answers():
    q = ethics_rules.Question("a", "A?", ethics_rules.MULTI, {"x": "X", "y": "Y"})
    rows = ethics_rules.compare([q], {"a": ["x", "y"]}, [q], {"a": ["y", "x"]})
    assert not rows[0].changed
    rows = ethics_rules.compare([q], {}, [q], {"a": []})
    assert rows[0].changed and rows[0].left == "—" and rows[0].right == "None"


# --- the link to classification ------------------------------------------------------


def test_a_use_case_without_ethics_answers_touches_nothing(approved_position, risk_officer):
    use_case = UseCaseFactory()
    assert ethics_critical_aspects_for(use_case=use_case) == []
    assert "critical_aspects" not in use_case_facts(use_case)
    c = classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    assert (c.criticality, c.risk_tier) == (1, 1)


def test_touching_a_critical_aspect_raises_the_tier_with_the_reason(
    approved_position, risk_officer, data_scientist, team
):
    use_case = UseCaseFactory(team=team)
    first = classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    assert first.risk_tier == 1

    ethics_use_case_answer(
        use_case=use_case,
        answers=use_case_answers(aspects=["bias", "employment"]),
        by=data_scientist,
    )
    latest = Classification.objects.filter(use_case=use_case).first()
    assert latest.pk != first.pk and latest.classified_by == data_scientist
    assert (latest.previous_risk_tier, latest.risk_tier) == (1, 3)
    assert "ethics answers" in latest.note
    assert latest.answers["critical_aspects"] == ["bias"]
    reason = next(r for r in latest.reasons if r["decisive"])
    assert reason["rule"] == "Touches an aspect the organisation holds critical"
    assert reason["triggered_by"][0]["answer"] == "Bias and discrimination"
    display = {
        row["question"]: row["answer"]
        for row in classification_answers_display(classification=latest)
    }
    assert "Bias and discrimination" in display.values()
    use_case.refresh_from_db()
    assert use_case.risk_tier == 3

    # Same critical aspects again: no new classification (idempotent).
    count = Classification.objects.count()
    ethics_use_case_answer(
        use_case=use_case,
        answers=use_case_answers(aspects=["bias"], transparency=2),
        by=data_scientist,
    )
    assert Classification.objects.count() == count
    # No longer touching a critical aspect: back to low, once a risk officer confirms the
    # lower tier (issue 12: until then the tier in effect holds).
    ethics_use_case_answer(
        use_case=use_case, answers=use_case_answers(aspects=["employment"]), by=data_scientist
    )
    use_case.refresh_from_db()
    assert use_case.risk_tier == 3
    from governance.services import classification_confirm

    classification_confirm(use_case=use_case, by=risk_officer, password=PASSWORD)
    use_case.refresh_from_db()
    assert use_case.risk_tier == 1


def test_non_critical_aspects_leave_the_tier_unchanged(
    approved_position, risk_officer, data_scientist, team
):
    use_case = UseCaseFactory(team=team)
    classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
    ethics_use_case_answer(
        use_case=use_case,
        answers=use_case_answers(aspects=["employment", "democracy"]),
        by=data_scientist,
    )
    assert Classification.objects.filter(use_case=use_case).count() == 1
    use_case.refresh_from_db()
    assert use_case.risk_tier == 1


def test_a_new_position_reclassifies_affected_use_cases_idempotently(
    approved_position, governance_lead, second_lead, risk_officer, data_scientist, team
):
    touched = UseCaseFactory(team=team)
    untouched = UseCaseFactory(team=team)
    for use_case, aspects in ((touched, ["employment"]), (untouched, ["democracy"])):
        classification_submit(use_case=use_case, answers=full_answers(), by=risk_officer)
        ethics_use_case_answer(
            use_case=use_case, answers=use_case_answers(aspects=aspects), by=data_scientist
        )
    new = ethics_position_answer(
        answers=position_answers(critical_aspects=["employment"]), by=governance_lead
    )
    with mock.patch("governance.tasks.use_cases_reclassify_ethics.delay"):
        ethics_position_approve(answer_set=new, by=second_lead, password=PASSWORD)

    counts = reclassify_task(by_id=second_lead.pk, note="New position")
    assert counts | {"opened": 0, "closed": 0} == {
        "evaluated": 1,
        "changed": 1,
        "needs_answers": 0,
        "opened": 0,
        "closed": 0,
    }
    touched.refresh_from_db()
    untouched.refresh_from_db()
    assert (touched.risk_tier, untouched.risk_tier) == (3, 1)
    assert touched.classifications.first().classified_by == second_lead
    # A second run finds nothing to do.
    total = Classification.objects.count()
    assert use_cases_reclassify_ethics(by=None, note="again")["evaluated"] == 0
    assert Classification.objects.count() == total


def test_use_cases_without_ethics_answers(approved_position, data_scientist, auditor, team):
    answered = UseCaseFactory(team=team)
    unanswered = UseCaseFactory(team=team)
    retired = UseCaseFactory(team=team, status="retired")
    ethics_use_case_answer(use_case=answered, answers=use_case_answers(), by=data_scientist)
    result = set(use_cases_without_ethics_answers(user=auditor))
    assert unanswered in result and answered not in result and retired not in result
    assert not use_cases_without_ethics_answers(user=mock.Mock(is_authenticated=False)).exists()


def test_a_new_use_case_version_makes_answers_outstanding_again(
    governance_lead, data_scientist, auditor, team
):
    use_case = UseCaseFactory(team=team)
    ethics_use_case_answer(use_case=use_case, answers=use_case_answers(), by=data_scientist)
    assert use_case not in use_cases_without_ethics_answers(user=auditor)
    draft = ethics_version_draft_create(template=ethics_template_get(scope=UC), by=governance_lead)
    ethics_publish(version=draft, by=governance_lead)
    assert use_case in use_cases_without_ethics_answers(user=auditor)


def test_question_kinds_match_the_engine():
    assert set(EthicsQuestion.Kind.values) == {
        ethics_rules.SINGLE,
        ethics_rules.MULTI,
        ethics_rules.SCALE,
        ethics_rules.TEXT,
    }
