"""Admin of the governance framework: regulations, the Step 1 questionnaire, its rules
and the (read-only) classification history.

Rules are data that governance leads edit here, validated like everywhere else: a rule
needs at least one condition and every condition must fit its question. Any change to
the rules (edit, deactivation, deletion) queues a re-evaluation of every classified use
case (``governance.services.risk_rules_changed``). Classifications are decision records:
they are shown, never added, changed or deleted.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core import risk_engine
from governance.models import (
    Classification,
    ClassificationConfirmation,
    RiskQuestion,
    RiskQuestionOption,
    RiskRule,
    RiskRuleCondition,
)
from governance.services import risk_rules_changed
from inventory.admin import UseCaseAdmin
from inventory.choices import RiskTier
from inventory.models import Regulation, UseCase

# --- Regulations ---------------------------------------------------------------------


def _conditions_naming(code: str) -> list[RiskRuleCondition]:
    conditions = RiskRuleCondition.objects.filter(
        question__source=RiskQuestion.Source.REGULATIONS
    ).select_related("rule")
    return [c for c in conditions if code in (c.values or [])]


@admin.register(Regulation)
class RegulationAdmin(admin.ModelAdmin):
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

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and (obj.use_cases.exists() or _conditions_naming(obj.code)):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletions are checked one by one
        return actions


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
class RiskQuestionAdmin(admin.ModelAdmin):
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


class RiskRuleConditionForm(forms.ModelForm):
    class Meta:
        model = RiskRuleCondition
        fields = ["question", "operator", "values"]
        widgets = {"values": forms.TextInput(attrs={"size": 40})}

    def clean_values(self):
        # A yes/no condition takes no options: an empty box means [].
        value = self.cleaned_data.get("values")
        return [] if value in (None, "") else value


class RiskRuleConditionFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and (form.instance.pk or form.has_changed())
        ]
        if not kept:
            raise ValidationError("A rule needs at least one condition.")


class RiskRuleConditionInline(admin.TabularInline):
    model = RiskRuleCondition
    form = RiskRuleConditionForm
    formset = RiskRuleConditionFormSet
    min_num = 1
    validate_min = True
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question")


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = [
        "order",
        "name",
        "conditions_summary",
        "min_criticality",
        "min_tier",
        "active",
        "updated_at",
        "updated_by",
    ]
    list_display_links = ["name"]
    list_filter = ["active", "min_tier", "min_criticality", "conditions__question"]
    search_fields = ["name", "explanation", "conditions__question__code"]
    list_select_related = ["updated_by"]
    ordering = ["order", "id"]
    readonly_fields = ["updated_at", "updated_by"]
    fields = [
        "name",
        "explanation",
        ("min_criticality", "min_tier"),
        ("active", "order"),
        ("updated_at", "updated_by"),
    ]
    inlines = [RiskRuleConditionInline]
    actions = ["activate", "deactivate"]

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

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        risk_rules_changed(by=request.user)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        risk_rules_changed(by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        risk_rules_changed(by=request.user)

    def _set_active(self, request, queryset, active: bool) -> None:
        # Row by row (not QuerySet.update) so that the audit trail records each change.
        count = 0
        with transaction.atomic():
            ids = list(queryset.filter(active=not active).values_list("pk", flat=True))
            for rule in RiskRule.objects.select_for_update().filter(pk__in=ids):
                rule.active = active
                rule.updated_by = request.user
                rule.updated_at = timezone.now()
                rule.save(update_fields=["active", "updated_by", "updated_at"])
                count += 1
        risk_rules_changed(by=request.user)
        self.message_user(
            request,
            f"{'Activated' if active else 'Deactivated'} {count} rule(s); every classified "
            "use case will be re-evaluated by a worker.",
            messages.SUCCESS,
        )

    @admin.action(description="Activate the selected rules", permissions=["change"])
    def activate(self, request, queryset) -> None:
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate the selected rules", permissions=["change"])
    def deactivate(self, request, queryset) -> None:
        self._set_active(request, queryset, False)

    def response_change(self, request, obj):
        self.message_user(
            request, "Every classified use case will be re-evaluated under the changed rules."
        )
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request, "Every classified use case will be re-evaluated under the new rule."
        )
        return super().response_add(request, obj, post_url_continue)


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


# --- People: governance leads assign roles, but cannot grant themselves more ---------


admin.site.unregister(User)


@admin.register(User)
class GovernanceUserAdmin(UserAdmin):
    """Governance leads assign people to roles (groups) and teams; only superusers grant
    superuser status or individual permissions."""

    list_filter = ["groups", "is_staff", "is_active", "teams"]
    list_display = ["username", "first_name", "last_name", "email", "roles", "is_staff"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="roles")
    def roles(self, obj) -> str:
        return ", ".join(g.name for g in obj.groups.all())

    def has_change_permission(self, request, obj=None) -> bool:
        # Changing a superuser (e.g. their password) would be a way to become one.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions", "last_login", "date_joined"]
        return readonly


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
        by_id = request.user.pk
        transaction.on_commit(lambda: use_cases_reclassify_task.delay(by_id=by_id, note=note))
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
