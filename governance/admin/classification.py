"""Admin of the governance framework: regulations, the Step 1 questionnaire, its rules
and the (read-only) classification history. Regulations and the questionnaire are
catalogue rows: an edit is a four-eyes proposal (``governance.admin.proposals``).

Rules are shown here and changed only by four-eyes proposals (the list's actions
propose (de)activation; edits are proposed on the rule pages, ``/risk-rules/``): a
second governance lead's signed approval applies the change and queues the
re-evaluation of every classified use case. Classifications are decision records:
they are shown, never added, changed or deleted.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.admin_site import ReadOnlyAdminMixin, service_action
from core import risk_engine
from governance.admin.proposals import ProposedChangeAdmin
from governance.models import (
    Classification,
    ClassificationConfirmation,
    RiskQuestion,
    RiskQuestionOption,
    RiskRule,
    RiskRuleCondition,
)
from governance.services import risk_rule_propose_active
from inventory.admin import UseCaseAdmin
from inventory.choices import RiskTier
from inventory.models import Regulation, UseCase
from notifications.jobs import enqueue

# --- Regulations ---------------------------------------------------------------------


@admin.register(Regulation)
class RegulationAdmin(ProposedChangeAdmin):
    """The regulations catalogue: an edit (a name, an area, a description) or a new
    regulation is a four-eyes proposal (``governance.admin.proposals``); rows are never
    deleted here (use cases, rules and requirements refer to them)."""

    list_display = ["name", "code", "area", "jurisdiction", "use_case_count"]
    list_filter = ["area", "jurisdiction"]
    search_fields = ["code", "name", "description"]
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(use_case_count=Count("use_cases"))

    @admin.display(description="use cases", ordering="use_case_count")
    def use_case_count(self, obj) -> int:
        return obj.use_case_count

    def get_readonly_fields(self, request, obj=None):
        # The code is what use cases' answers and rule conditions refer to.
        return ["code"] if obj else []


# --- Questionnaire -------------------------------------------------------------------


class RiskQuestionOptionFormSet(BaseInlineFormSet):
    """The options of a question must still fit every rule condition on it (a removed
    option, or a changed kind, would leave a rule that can never match)."""

    def clean(self):
        super().clean()
        question = self.instance
        if any(self.errors) or question.pk is None:
            return
        if question.source == RiskQuestion.Source.REGULATIONS:
            options = dict(Regulation.objects.values_list("code", "name"))
        elif question.kind == RiskQuestion.Kind.BOOLEAN:
            options = {}
        else:
            options = {
                form.cleaned_data["code"]: form.cleaned_data.get("label", "")
                for form in self.forms
                if form.cleaned_data
                and form.cleaned_data.get("code")
                and not form.cleaned_data.get("DELETE")
            }
        engine_question = risk_engine.Question(
            code=question.code, text=question.text, kind=question.kind, options=options
        )
        errors = []
        conditions = RiskRuleCondition.objects.filter(question=question).select_related("rule")
        for condition in conditions:
            problems = risk_engine.validate_condition(
                risk_engine.Condition(question.code, condition.operator, tuple(condition.values)),
                engine_question,
            )
            errors += [f"Rule “{condition.rule}”: {problem}" for problem in problems]
        if errors:
            raise ValidationError(
                ["Change the rules that use this question first."] + errors,
            )


class RiskQuestionOptionInline(admin.TabularInline):
    model = RiskQuestionOption
    formset = RiskQuestionOptionFormSet
    fields = ["order", "code", "label"]
    extra = 0
    ordering = ["order", "id"]


@admin.register(RiskQuestion)
class RiskQuestionAdmin(ProposedChangeAdmin):
    """The questionnaire: an edit is a four-eyes proposal (``governance.admin.proposals``)."""

    list_display = ["order", "code", "text", "kind", "source", "dimension", "required"]
    list_display_links = ["code", "text"]
    list_filter = ["dimension", "kind", "source", "required"]
    search_fields = ["code", "text", "help_text", "options__label"]
    ordering = ["order", "id"]
    inlines = [RiskQuestionOptionInline]

    def get_readonly_fields(self, request, obj=None):
        # Stored answers are keyed by the question's code.
        return ["code"] if obj else []


# --- Rules ---------------------------------------------------------------------------


class RiskRuleConditionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RiskRuleCondition
    fields = ["question", "operator", "values"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question")


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    """Shown, never changed here: a rule is added, edited, activated or deactivated by a
    four-eyes proposal (``governance.services.framework_changes``). The list's actions
    propose (de)activation; "Propose a change" opens the proposal page."""

    list_display = [
        "order",
        "name",
        "conditions_summary",
        "min_criticality",
        "min_tier",
        "active",
        "updated_at",
        "updated_by",
        "propose_link",
    ]
    list_display_links = ["name"]
    list_filter = ["active", "min_tier", "min_criticality", "conditions__question"]
    search_fields = ["name", "explanation", "conditions__question__code"]
    list_select_related = ["updated_by"]
    ordering = ["order", "id"]
    fields = [
        "name",
        "explanation",
        ("min_criticality", "min_tier"),
        ("active", "order"),
        ("updated_at", "updated_by"),
        "propose_link",
    ]
    readonly_fields = [
        "name",
        "explanation",
        "min_criticality",
        "min_tier",
        "active",
        "order",
        "updated_at",
        "updated_by",
        "propose_link",
    ]
    inlines = [RiskRuleConditionInline]
    actions = ["propose_activate", "propose_deactivate"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "conditions",
                    queryset=RiskRuleCondition.objects.select_related("question").order_by("id"),
                )
            )
        )

    @admin.display(description="when")
    def conditions_summary(self, obj) -> str:
        return " and ".join(str(c) for c in obj.conditions.all())

    @admin.display(description="change")
    def propose_link(self, obj) -> str:
        url = reverse("governance:risk-rule-propose", args=[obj.pk])
        return format_html('<a href="{}">Propose a change</a>', url)

    def _propose(self, request, queryset, active: bool):
        verb = "activation" if active else "deactivation"
        return service_action(
            self,
            request,
            queryset,
            lambda rule: risk_rule_propose_active(
                rule=rule,
                active=active,
                by=request.user,
                reason=f"Proposed {verb} from the admin by {request.user.get_username()}.",
            ),
            lambda rule, change: (
                f"{rule}: {verb} proposed (#{change.pk}); it takes effect "
                "when another governance lead signs the approval."
            ),
        )

    @admin.action(description="Propose activating the selected rules", permissions=["view"])
    def propose_activate(self, request, queryset):
        return self._propose(request, queryset, True)

    @admin.action(description="Propose deactivating the selected rules", permissions=["view"])
    def propose_deactivate(self, request, queryset):
        return self._propose(request, queryset, False)


# --- Classifications (append-only decision records) ---------------------------------


def _tier(value) -> str:
    return RiskTier(value).label if value else "—"


@admin.register(Classification)
class ClassificationAdmin(admin.ModelAdmin):
    list_display = [
        "classified_at",
        "use_case",
        "criticality",
        "risk_tier",
        "change",
        "classified_by",
        "note",
    ]
    list_display_links = ["classified_at"]
    list_filter = ["risk_tier", "criticality", "use_case__team", "classified_at"]
    search_fields = ["use_case__name", "note", "classified_by__username"]
    list_select_related = ["use_case", "classified_by"]
    ordering = ["-classified_at", "-id"]
    date_hierarchy = "classified_at"
    fields = [
        "use_case_link",
        ("criticality", "risk_tier"),
        "change",
        ("classified_by", "classified_at"),
        "note",
        "reasons_display",
        "answers_display",
        "rules_fingerprint",
    ]
    readonly_fields = [
        name for item in fields for name in (item if isinstance(item, tuple) else (item,))
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="change")
    def change(self, obj) -> str:
        if obj.previous_risk_tier is None:
            return "First classification"
        if not obj.changed:
            return "Unchanged"
        level = (
            f"level {obj.previous_criticality} → {obj.criticality}"
            if obj.previous_criticality != obj.criticality
            else f"level {obj.criticality}"
        )
        tier = (
            f"{_tier(obj.previous_risk_tier)} → {_tier(obj.risk_tier)} tier"
            if obj.previous_risk_tier != obj.risk_tier
            else f"{_tier(obj.risk_tier)} tier"
        )
        return f"Changed: {level}, {tier}"

    @admin.display(description="use case")
    def use_case_link(self, obj) -> str:
        url = reverse("admin:inventory_usecase_change", args=[obj.use_case_id])
        return format_html('<a href="{}">{}</a>', url, obj.use_case)

    @admin.display(description="why (rules that matched)")
    def reasons_display(self, obj) -> str:
        if not obj.reasons:
            return "No rule matched: baseline level 1, low tier."
        items = []
        for reason in obj.reasons:
            raises = [
                f"level ≥ {reason['min_criticality']}" if reason.get("min_criticality") else "",
                f"tier ≥ {_tier(reason['min_tier'])}" if reason.get("min_tier") else "",
            ]
            answers = format_html_join(
                "; ",
                "{}: <em>{}</em>",
                ((t["question"], t["answer"]) for t in reason["triggered_by"]),
            )
            items.append(
                format_html(
                    "<li>{}<strong>{}</strong> ({}) — {}<br><small>{}</small></li>",
                    "★ " if reason.get("decisive") else "",
                    reason["rule"],
                    ", ".join(r for r in raises if r),
                    reason["explanation"],
                    answers,
                )
            )
        return format_html(
            "<ul>{}</ul><small>★ decisive: set the final level or tier.</small>",
            format_html_join("", "{}", ((item,) for item in items)),
        )

    @admin.display(description="answers")
    def answers_display(self, obj) -> str:
        questions = dict(RiskQuestion.objects.values_list("code", "text"))
        options = {
            (code, option): label
            for code, option, label in RiskQuestionOption.objects.values_list(
                "question__code", "code", "label"
            )
        }
        regulations = dict(Regulation.objects.values_list("code", "name"))

        def show(code, value) -> str:
            if isinstance(value, bool):
                return "Yes" if value else "No"
            values = value if isinstance(value, list) else [value]
            labels = [options.get((code, v)) or regulations.get(v) or str(v) for v in values]
            return ", ".join(labels) or "None of these"

        return format_html(
            "<dl>{}</dl>",
            format_html_join(
                "",
                "<dt>{}</dt><dd>{}</dd>",
                (
                    (questions.get(code, code), show(code, value))
                    for code, value in obj.answers.items()
                ),
            ),
        )


# --- The inventory's use case admin, with Step 1's re-evaluation ----------------------


class ClassifiedUseCaseAdmin(UseCaseAdmin):
    """The inventory's use case admin plus the "Re-evaluate classifications now" button
    of its list (``templates/admin/inventory/usecase/change_list.html``): the button is
    governance's, so it is added here rather than in the inventory below."""

    def get_urls(self):
        return [
            path(
                "reevaluate/",
                self.admin_site.admin_view(self.reevaluate_view),
                name="inventory_usecase_reevaluate",
            ),
            *super().get_urls(),
        ]

    def reevaluate_view(self, request):
        """Queue the re-evaluation of every classification made under an older rule
        set (the hourly safety net, now). POST only."""
        from governance.tasks import use_cases_reclassify as use_cases_reclassify_task

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        note = f"Re-evaluated on request by {request.user.get_username()} in the admin."
        enqueue(use_cases_reclassify_task, kwargs={"by_id": request.user.pk, "note": note})
        self.message_user(
            request,
            "Queued: a worker re-evaluates every classification made under an older rule set; "
            "new classifications appear in the history shortly.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:inventory_usecase_changelist"))


admin.site.unregister(UseCase)
admin.site.register(UseCase, ClassifiedUseCaseAdmin)


@admin.register(ClassificationConfirmation)
class ClassificationConfirmationAdmin(admin.ModelAdmin):
    """A risk officer's signed confirmation of a High or Critical class: read only
    (given on the use case's confirmation page, never here)."""

    list_display = ["confirmed_at", "use_case", "risk_tier", "printed_name", "note"]
    list_filter = ["risk_tier", "use_case__team"]
    search_fields = ["use_case__name", "printed_name", "note"]
    list_select_related = ["use_case", "confirmed_by"]
    ordering = ["-confirmed_at", "-id"]
    fields = [
        "use_case",
        "classification",
        "risk_tier",
        "confirmed_by",
        "printed_name",
        "confirmed_at",
        "meaning",
        "note",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
