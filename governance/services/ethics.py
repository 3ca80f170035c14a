"""Writes of Step 2, the ethical position.

- Questionnaire versions: a governance lead starts a draft (a copy of the current
  version), edits its questions and proposes to publish it; it is published when a
  second lead approves (``framework_changes.ethics_version_publish_propose``, four
  eyes). Published versions never change.
- Answer sets: the organisation's position (governance leads) and each use case's
  answers (whoever may change the use case). Append-only: answering again adds a set.
- Approval: a new organisation position is a four-eyes proposal
  (``governance.services.framework_changes``): a governance lead other than the one
  who answered signs its approval with their password; only then is it the position.
- Applying the position: each use case's answers are compared with it; shortfalls
  beyond its tolerance are ``EthicsDeviation`` rows (``ethics_deviations``).
- The link to classification: a use case's tier depends on the critical aspects its
  answers touch, so new use-case answers re-evaluate that use case at once, and a
  newly approved position re-evaluates every affected use case in a worker.
"""

import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.errors import CONFLICT
from accounts.permissions import is_governance_lead
from accounts.sso.signing import Credential
from core import ethics_rules
from governance.models import Classification, RiskQuestion
from governance.models.ethics import (
    EthicsAnswerSet,
    EthicsApproval,
    EthicsQuestion,
    EthicsQuestionOption,
    EthicsTemplate,
    EthicsTemplateVersion,
)
from governance.selectors import (
    classification_latest,
    ethics_question_list,
    ethics_questions_as_rules,
    ethics_version_current,
    ethics_version_draft,
)
from governance.services.classification import classification_refresh, use_case_facts
from governance.services.ethics_deviations import (
    ethics_deviations_refresh,
    ethics_deviations_refresh_all,
)
from inventory import permissions as inventory_permissions
from inventory.models import UseCase
from notifications.jobs import enqueue

logger = logging.getLogger(__name__)

Scope = EthicsTemplate.Scope
Status = EthicsTemplateVersion.Status


def _require_lead(user: User, action: str) -> None:
    if not is_governance_lead(user):
        raise PermissionDenied(f"Only governance leads can {action}.")


# --- questionnaire versions ----------------------------------------------------------


@transaction.atomic
def ethics_version_draft_create(
    *, template: EthicsTemplate, by: User, note: str = ""
) -> EthicsTemplateVersion:
    """Start the next version of a questionnaire as a copy of its latest version.

    Raises PermissionDenied unless ``by`` is a governance lead, ValidationError when
    the questionnaire already has a draft.
    """
    _require_lead(by, "change the ethics questionnaires")
    template = EthicsTemplate.objects.select_for_update().get(pk=template.pk)
    if ethics_version_draft(template=template) is not None:
        raise ValidationError("This questionnaire already has a draft; edit or publish it first.")
    source = template.versions.order_by("-number").first()
    number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = EthicsTemplateVersion(
        template=template, number=number, note=note, created_by=by, created_at=timezone.now()
    )
    draft.full_clean()
    draft.save()
    if source is not None:
        for question in ethics_question_list(version=source):
            options = list(question.options.all())
            question.pk = None
            question.version = draft
            question.save()
            EthicsQuestionOption.objects.bulk_create(
                EthicsQuestionOption(question=question, code=o.code, label=o.label, order=o.order)
                for o in options
            )
    return draft


def _check_draft(version: EthicsTemplateVersion) -> None:
    if version.status != Status.DRAFT:
        raise ValidationError(f"{version} is published and cannot be changed.")


@transaction.atomic
def ethics_question_set(
    *,
    version: EthicsTemplateVersion,
    by: User,
    code: str,
    text: str,
    kind: str,
    help_text: str = "",
    required: bool = True,
    order: int | None = None,
    options: list[tuple[str, str]] = (),
    scale_min: int | None = None,
    scale_max: int | None = None,
    scale_min_label: str = "",
    scale_max_label: str = "",
) -> EthicsQuestion:
    """Add a question to a draft, or replace the draft's question with that code
    (its options are replaced too). Raises PermissionDenied for non-leads and
    ValidationError for a published version or an invalid question."""
    _require_lead(by, "change the ethics questionnaires")
    version = EthicsTemplateVersion.objects.select_for_update().get(pk=version.pk)
    _check_draft(version)
    question = EthicsQuestion.objects.filter(version=version, code=code).first()
    if question is None:
        last = version.questions.aggregate(n=Max("order"))["n"] or 0
        question = EthicsQuestion(version=version, code=code, order=last + 10)
    question.text, question.kind, question.help_text = text, kind, help_text
    question.required = required
    if order is not None:
        question.order = order
    question.scale_min, question.scale_max = scale_min, scale_max
    question.scale_min_label, question.scale_max_label = scale_min_label, scale_max_label
    question.full_clean()
    choice = kind in (EthicsQuestion.Kind.SINGLE, EthicsQuestion.Kind.MULTI)
    if choice and not options:
        raise ValidationError({"options": "A choice question needs at least one option."})
    if not choice and options:
        raise ValidationError({"options": "Only choice questions take options."})
    codes = [c for c, _ in options]
    if len(set(codes)) != len(codes):
        raise ValidationError({"options": "Option codes must be unique."})
    question.save()
    question.options.all().delete()
    for index, (option_code, label) in enumerate(options):
        option = EthicsQuestionOption(
            question=question, code=option_code, label=label, order=(index + 1) * 10
        )
        option.full_clean()
        option.save()
    return question


@transaction.atomic
def ethics_question_remove(*, version: EthicsTemplateVersion, by: User, code: str) -> None:
    """Remove a question from a draft (published versions keep all their questions)."""
    _require_lead(by, "change the ethics questionnaires")
    _check_draft(version)
    question = EthicsQuestion.objects.filter(version=version, code=code).first()
    if question is None:
        raise ValidationError({"code": f"The draft has no question {code!r}."})
    question.options.all().delete()
    question.delete()


# --- answers -------------------------------------------------------------------------


def _check_version(version: EthicsTemplateVersion | None, scope: str) -> EthicsTemplateVersion:
    current = ethics_version_current(scope=scope)
    if current is None:
        raise ValidationError("The questionnaire has no published version yet.")
    if version is None:
        return current
    if version.template.scope != scope:
        raise ValidationError({"version": "This version belongs to the other questionnaire."})
    if version.status != Status.PUBLISHED:
        raise ValidationError({"version": "This version is a draft; answer the current version."})
    if version.pk != current.pk:
        raise ValidationError(
            {
                "version": f"Version {version.number} is superseded; answer the current "
                f"version {current.number}."
            }
        )
    return current


def _answer_set_create(
    *,
    version: EthicsTemplateVersion,
    use_case: UseCase | None,
    answers: Any,
    by: User,
    note: str,
    tolerance: int | None = None,
) -> EthicsAnswerSet:
    questions = ethics_questions_as_rules(version=version)
    errors = ethics_rules.validate_answers(questions, answers)
    if errors:
        raise ValidationError(errors)
    answer_set = EthicsAnswerSet(
        version=version,
        use_case=use_case,
        answers=ethics_rules.normalise(questions, answers),
        note=note,
        tolerance=tolerance,
        answered_by=by,
        answered_at=timezone.now(),
    )
    answer_set.full_clean()
    answer_set.save()
    return answer_set


POSITION_TARGET = "ethics_position"


def _check_tolerance(tolerance: Any) -> int:
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or not 0 <= tolerance <= 4:
        raise ValidationError({"tolerance": "Give a whole number of points from 0 to 4."})
    return tolerance


@transaction.atomic
def ethics_position_answer(
    *,
    answers: dict[str, Any],
    by: User,
    note: str = "",
    version: EthicsTemplateVersion | None = None,
    tolerance: int = ethics_rules.DEFAULT_TOLERANCE,
) -> EthicsAnswerSet:
    """Propose a new organisation position: a new answer set (with the tolerance a use
    case's scale answers get) and its four-eyes proposal, which supersedes a pending
    one. The approved position stays in force until another lead signs the approval.

    Raises PermissionDenied unless ``by`` is a governance lead; ValidationError
    (keyed by question code) for unknown questions, options not in a question,
    scale values out of range, missing answers, a superseded version or a tolerance
    out of range.
    """
    from governance.services.framework_changes import framework_change_propose

    _require_lead(by, "answer the organisation's ethical position")
    tolerance = _check_tolerance(tolerance)
    version = _check_version(version, Scope.ORGANISATION)
    answer_set = _answer_set_create(
        version=version, use_case=None, answers=answers, by=by, note=note, tolerance=tolerance
    )
    content = {
        "answer_set": answer_set.pk,
        "version": version.pk,
        "answers": answer_set.answers,
        "tolerance": tolerance,
    }
    framework_change_propose(
        kind="ethics_position",
        target_key=POSITION_TARGET,
        content=content,
        by=by,
        reason=note or "A new organisation ethical position.",
        answer_set=answer_set,
    )
    return answer_set


def ethics_position_approve(
    *,
    answer_set: EthicsAnswerSet,
    by: User,
    password: Credential,
    note: str = "",
    via_token: bool = False,
):
    """Sign the approval of a proposed organisation position (four eyes: a lead other
    than the proposer, password typed now). Returns the ``EthicsApproval``.

    Raises PermissionDenied or ValidationError (see ``framework_change_approve``).
    """
    from governance.services.framework_changes import framework_change_approve

    _require_lead(by, "approve the organisation's ethical position")
    if answer_set.use_case_id is not None:
        raise ValidationError("Only the organisation's position is approved.")
    if EthicsApproval.objects.filter(answer_set=answer_set).exists():
        raise ValidationError("This position is already approved.", code=CONFLICT)
    change = answer_set.framework_changes.filter(decision__isnull=True).order_by("-id").first()
    if change is None:
        raise ValidationError(
            "This answer set has no pending proposal (superseded, rejected or withdrawn).",
            code=CONFLICT,
        )
    framework_change_approve(
        change=change, by=by, password=password, reason=note, via_token=via_token
    )
    return EthicsApproval.objects.get(answer_set=answer_set)


def ethics_position_take_effect(
    *, answer_set: EthicsAnswerSet, by: User, note: str = ""
) -> EthicsApproval:
    """Make an approved proposal the organisation's position (called by the four-eyes
    approval, inside its transaction). Refuses a superseded questionnaire version or
    a set that is not the latest. After commit, a worker re-evaluates the use cases
    whose critical aspects changed and applies the position to every use case's
    answers (deviations)."""
    from governance.services.framework_content import ethics_position_apply
    from governance.tasks import use_cases_reclassify_ethics as use_cases_reclassify_ethics_task

    answer_set = EthicsAnswerSet.objects.select_for_update().get(pk=answer_set.pk)
    _check_version(answer_set.version, Scope.ORGANISATION)
    approval = ethics_position_apply(answer_set=answer_set, by=by, note=note)

    reclassify_note = f"Re-evaluated after {by.get_username()} approved a new ethical position."
    enqueue(use_cases_reclassify_ethics_task, kwargs={"by_id": by.pk, "note": reclassify_note})
    return approval


@transaction.atomic
def ethics_use_case_answer(
    *,
    use_case: UseCase,
    answers: dict[str, Any],
    by: User,
    note: str = "",
    version: EthicsTemplateVersion | None = None,
) -> EthicsAnswerSet:
    """Answer the ethics questionnaire for a use case (a new answer set).

    Raises PermissionDenied unless ``by`` may change the use case; ValidationError
    as for ``ethics_position_answer``. If the critical aspects the use case touches
    changed, a classified use case is re-evaluated at once, in the same transaction.
    """
    if not inventory_permissions.can_change_use_case(by, use_case):
        raise PermissionDenied("You cannot change this use case's ethics answers.")
    version = _check_version(version, Scope.USE_CASE)
    answer_set = _answer_set_create(
        version=version, use_case=use_case, answers=answers, by=by, note=note
    )
    if _critical_aspects_stale(use_case):
        classification_refresh(
            use_case=use_case, by=by, note="Re-evaluated after its ethics answers changed."
        )
    ethics_deviations_refresh(use_case=use_case, by=by, trigger=answer_set)
    return answer_set


# --- re-evaluation -------------------------------------------------------------------


def _critical_aspects_stale(use_case: UseCase) -> bool:
    """Whether the use case's latest classification saw other critical aspects than
    it touches now (a never-classified use case is never stale)."""
    latest: Classification | None = classification_latest(use_case=use_case)
    if latest is None:
        return False
    codes = RiskQuestion.objects.filter(source=RiskQuestion.Source.CRITICAL_ASPECTS).values_list(
        "code", flat=True
    )
    facts = use_case_facts(use_case)
    return any(sorted(latest.answers.get(c) or []) != sorted(facts.get(c) or []) for c in codes)


def use_cases_reclassify_ethics(*, by: User | None, note: str) -> dict:
    """Re-evaluate the classified use cases whose critical aspects changed (after a
    new organisation position). Idempotent: a second run finds nothing to do. Each
    use case is its own transaction. Returns counts: evaluated, changed, needs_answers.
    """
    counts = {"evaluated": 0, "changed": 0, "needs_answers": 0}
    for use_case in UseCase.objects.filter(classifications__isnull=False).distinct():
        if not _critical_aspects_stale(use_case):
            continue
        result = classification_refresh(use_case=use_case, by=by, note=note)
        if result is None:
            counts["needs_answers"] += 1
            continue
        counts["evaluated"] += 1
        counts["changed"] += int(result.changed)
    counts.update(ethics_deviations_refresh_all(by=by))
    return counts
