"""Reads of Step 2, the ethical position: questionnaire versions, answer sets, the
organisation's approved position, comparisons and the link to classification."""

from typing import Any

from django.db.models import Exists, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from accounts.permissions import AnyUser, has_any_role
from core import ethics_rules
from core.memo import memoized
from governance.models.ethics import (
    EthicsAnswerSet,
    EthicsDeviation,
    EthicsDeviationAcceptance,
    EthicsQuestion,
    EthicsQuestionOption,
    EthicsTemplate,
    EthicsTemplateVersion,
)
from inventory.choices import LifecycleStatus

Scope = EthicsTemplate.Scope
Status = EthicsTemplateVersion.Status


def ethics_template_list() -> QuerySet[EthicsTemplate]:
    return EthicsTemplate.objects.all()


def ethics_template_get(*, scope: str) -> EthicsTemplate:
    """Raises EthicsTemplate.DoesNotExist when the scope has no questionnaire."""
    return EthicsTemplate.objects.get(scope=scope)


def ethics_version_list(*, template: EthicsTemplate | None = None) -> QuerySet:
    qs = EthicsTemplateVersion.objects.select_related("template", "created_by", "published_by")
    return qs.filter(template=template) if template is not None else qs


def ethics_version_get(*, pk: int) -> EthicsTemplateVersion:
    """Raises EthicsTemplateVersion.DoesNotExist."""
    return ethics_version_list().get(pk=pk)


def ethics_version_current(*, scope: str) -> EthicsTemplateVersion | None:
    """The version answers are given to: the scope's latest published version."""
    return (
        ethics_version_list()
        .filter(template__scope=scope, status=Status.PUBLISHED)
        .order_by("-number")
        .first()
    )


def ethics_version_draft(*, template: EthicsTemplate) -> EthicsTemplateVersion | None:
    return ethics_version_list(template=template).filter(status=Status.DRAFT).first()


def ethics_question_list(*, version: EthicsTemplateVersion) -> QuerySet[EthicsQuestion]:
    """A version's questions in order, options prefetched."""
    return EthicsQuestion.objects.filter(version=version).prefetch_related(
        Prefetch("options", queryset=EthicsQuestionOption.objects.order_by("order", "id"))
    )


def _as_rules(question: EthicsQuestion) -> ethics_rules.Question:
    return ethics_rules.Question(
        code=question.code,
        text=question.text,
        kind=question.kind,
        options={o.code: o.label for o in question.options.all()},
        required=question.required,
        scale_min=question.scale_min,
        scale_max=question.scale_max,
        scale_min_label=question.scale_min_label,
        scale_max_label=question.scale_max_label,
        help_text=question.help_text,
    )


def ethics_questions_as_rules(*, version: EthicsTemplateVersion) -> list[ethics_rules.Question]:
    return [_as_rules(q) for q in ethics_question_list(version=version)]


# --- answer sets ---------------------------------------------------------------------


def ethics_answer_set_list(
    *, user: AnyUser, scope: str | None = None, use_case=None
) -> QuerySet[EthicsAnswerSet]:
    """Answer sets visible to the user (everyone with a role reads all), newest first;
    ``scope`` organisation or use_case, or one ``use_case``'s sets."""
    if not has_any_role(user):
        return EthicsAnswerSet.objects.none()
    qs = EthicsAnswerSet.objects.select_related(
        "version__template", "use_case", "answered_by", "approval__approved_by"
    )
    if scope == Scope.ORGANISATION:
        qs = qs.filter(use_case=None)
    elif scope == Scope.USE_CASE:
        qs = qs.exclude(use_case=None)
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    return qs


def ethics_answer_set_get(*, user: AnyUser, pk: int) -> EthicsAnswerSet:
    """Raises EthicsAnswerSet.DoesNotExist when missing or invisible."""
    return ethics_answer_set_list(user=user).get(pk=pk)


def _organisation_sets() -> QuerySet[EthicsAnswerSet]:
    return EthicsAnswerSet.objects.filter(use_case=None).select_related(
        "version__template", "answered_by", "approval__approved_by"
    )


def ethics_position_current() -> EthicsAnswerSet | None:
    """The organisation's position: its most recently approved answer set."""
    return (
        _organisation_sets()
        .filter(approval__isnull=False)
        .order_by("-approval__approved_at", "-approval__id")
        .first()
    )


def ethics_position_pending() -> EthicsAnswerSet | None:
    """The latest organisation answer set when its four-eyes proposal awaits a second
    lead (else None: approved, rejected, withdrawn or never proposed)."""
    latest = _organisation_sets().order_by("-answered_at", "-id").first()
    if latest is None or hasattr(latest, "approval"):
        return None
    if not latest.framework_changes.filter(decision__isnull=True).exists():
        return None
    return latest


def ethics_use_case_latest(*, use_case) -> EthicsAnswerSet | None:
    """A use case's ethics answers: its latest answer set."""
    return (
        EthicsAnswerSet.objects.filter(use_case=use_case)
        .select_related("version__template", "answered_by")
        .order_by("-answered_at", "-id")
        .first()
    )


def ethics_answers_display(*, answer_set: EthicsAnswerSet) -> list[dict[str, Any]]:
    """An answer set as question text and readable answers, in its version's order."""
    rows = []
    for question in ethics_questions_as_rules(version=answer_set.version):
        rows.append(
            {
                "code": question.code,
                "question": question.text,
                "answer": ethics_rules.display(question, answer_set.answers.get(question.code)),
            }
        )
    return rows


def ethics_compare(
    *, left: EthicsAnswerSet, right: EthicsAnswerSet
) -> list[ethics_rules.ComparisonRow]:
    """Two answer sets side by side, matched by question code across versions."""
    left_questions = ethics_questions_as_rules(version=left.version)
    right_questions = (
        left_questions
        if right.version_id == left.version_id
        else ethics_questions_as_rules(version=right.version)
    )
    return ethics_rules.compare(left_questions, left.answers, right_questions, right.answers)


# --- the link to classification ------------------------------------------------------


def ethics_critical_aspects_for(*, use_case) -> list[str]:
    """The aspects the approved organisation position marks critical that the use
    case's latest ethics answers touch. Empty without a position or answers."""
    if use_case.pk is None:
        return []
    position = ethics_position_current()
    latest = ethics_use_case_latest(use_case=use_case)
    return ethics_rules.critical_touched(
        position.answers if position else None, latest.answers if latest else None
    )


def ethics_aspect_options() -> dict[str, str]:
    """Every aspect code a critical-aspects answer can hold, with its label: the
    options of the aspect questions of every published version of both
    questionnaires (newest label wins), so stored answers stay valid."""
    options = (
        EthicsQuestionOption.objects.filter(
            question__version__status=Status.PUBLISHED,
            question__code__in=[ethics_rules.CRITICAL_ASPECTS, ethics_rules.ASPECTS],
        )
        .order_by("question__version__number", "order", "id")
        .values_list("code", "label")
    )
    result: dict[str, str] = {}
    for code, label in options:
        result[code] = label
    return result


# --- KPIs ----------------------------------------------------------------------------


def use_cases_without_ethics_answers(*, user: AnyUser) -> QuerySet:
    """Use cases (not retired) with no answers to the current use-case questionnaire:
    never answered, or answered only to a superseded version. Empty for users
    without a role."""
    from inventory.selectors import use_cases_visible

    current = ethics_version_current(scope=Scope.USE_CASE)
    # Plain rows (no joins, no annotation): the pages count them (issue 18).
    qs = use_cases_visible(user=user).exclude(status=LifecycleStatus.RETIRED)
    if current is None:
        return qs.none()
    # NOT IN over the few answered ids (nulls left out, as NOT IN needs): a NOT EXISTS
    # per use case took twice as long at 10,000 on SQLite.
    answered = EthicsAnswerSet.objects.filter(version=current, use_case__isnull=False).values(
        "use_case_id"
    )
    return qs.exclude(pk__in=answered)


# --- the position applied ------------------------------------------------------------


def ethics_deviation_list(*, user: AnyUser, use_case=None, open_only: bool = False) -> QuerySet:
    """Ethics deviations visible to the user (the use cases they may see), newest
    first; one use case's, or only the open ones."""
    from inventory.selectors import use_case_list

    if not has_any_role(user):
        return EthicsDeviation.objects.none()
    qs = EthicsDeviation.objects.filter(use_case__in=use_case_list(user=user)).select_related(
        "use_case", "owner", "opened_by_answers", "closed_by_answers"
    )
    if use_case is not None:
        qs = qs.filter(use_case=use_case)
    if open_only:
        qs = qs.filter(closed_at__isnull=True)
    return qs.annotate(accepted_until=_accepted_until()).order_by("-opened_at", "-id")


def ethics_deviation_get(*, user: AnyUser, pk: int) -> EthicsDeviation:
    """One deviation the user may see (DoesNotExist otherwise)."""
    return ethics_deviation_list(user=user).get(pk=pk)


def _accepted_until():
    """The latest expiry among the deviation's acceptances still in force, or None."""
    current = (
        EthicsDeviationAcceptance.objects.filter(
            deviation=OuterRef("pk"), expires_on__gte=timezone.localdate()
        )
        .values("deviation")
        .annotate(until=Max("expires_on"))
        .values("until")
    )
    return Subquery(current)


ETHICS_BLOCKS = ("preprod", "prod")  # moves past QA, as an unconfirmed classification


@memoized
def ethics_blocking(use_case, target_env: str) -> list[tuple[str, str]]:
    """Why the use case's ethics answers stop a move into ``target_env``: each open
    deviation from the organisation's position that its Accountable of model
    acceptance has not accepted (or whose acceptance expired), and every declared
    prohibited harm, which no one can accept. (code, message) pairs; read by the
    promotion request's blocking items and the deployment gate."""
    if target_env not in ETHICS_BLOCKS:
        return []
    # One query whatever the number of deviations: whether one was ever accepted is an
    # annotation, not a query per row.
    rows = EthicsDeviation.objects.filter(use_case=use_case, closed_at=None).annotate(
        accepted_until=_accepted_until(),
        ever_accepted=Exists(EthicsDeviationAcceptance.objects.filter(deviation=OuterRef("pk"))),
    )
    items = []
    for row in rows.order_by("code"):
        if row.kind == ethics_rules.PROHIBITED:
            why = "A prohibited harm cannot be accepted: change the use case and answer again."
        elif row.accepted_until is None:
            why = "Not accepted by the Accountable of model acceptance" + (
                " (the acceptance expired)." if row.ever_accepted else "."
            )
        else:
            continue
        items.append((f"ethics:{row.code}", f"Ethics deviation: {row.message} {why}"))
    return items
