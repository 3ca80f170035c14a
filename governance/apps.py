from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GovernanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "governance"
    verbose_name = "Governance framework"

    def ready(self) -> None:
        from governance.audit_hooks import register_governance_models
        from governance.services import classification_refresh
        from governance.services.digest import render_obligations_digest
        from governance.services.escalation import render_obligation_overdue
        from governance.services.framework_emails import (
            FRAMEWORK_CHANGE_PROPOSED,
            render_framework_change_proposed,
        )
        from governance.services.obligations import render_obligations_email
        from governance.services.versions import version_registered
        from inventory.services import on_classification_inputs_changed, on_version_registered
        from notifications.models import Notification
        from notifications.registry import register_renderer

        register_governance_models()
        # The planner's statistics after a migrate that applied something (not after the
        # test runner's flush, which sends the same signal without a plan).
        post_migrate.connect(
            statistics_after_migrate, sender=self, dispatch_uid="governance-db-statistics"
        )
        # Evidence files: the media sweep keeps what an obligation (or the trail) names.
        from audit.stored_files import register_stored_files
        from governance.models import Obligation

        register_stored_files("obligations/evidence", Obligation, "evidence_file")
        # A published policy version and its cells are frozen in the database too.
        from audit.db_guard import register_frozen
        from governance.models import PolicyCell, PolicyFindingRule, PolicyVersion

        published = PolicyVersion.Status.PUBLISHED.value
        register_frozen(
            PolicyVersion, field="status", value=published, what="a published policy version"
        )
        register_frozen(
            PolicyCell,
            field="status",
            value=published,
            through="version",
            what="a cell of a published policy version",
        )
        register_frozen(
            PolicyFindingRule,
            field="status",
            value=published,
            through="version",
            what="a finding rule of a published policy version",
        )
        # A use case's regulations or PII flag feed its classification (Step 1).
        on_classification_inputs_changed(classification_refresh)
        on_version_registered(version_registered)
        register_renderer([Notification.Kind.OBLIGATIONS_ASSIGNED], render_obligations_email)
        # New or changed obligations: one digest per person per day (issue 18).
        register_renderer([Notification.Kind.OBLIGATIONS_DIGEST], render_obligations_digest)
        # Four eyes: a pending framework proposal is e-mailed to the other leads.
        register_renderer([FRAMEWORK_CHANGE_PROPOSED], render_framework_change_proposed)
        # Overdue obligations: the owner, then the model-acceptance Accountable (issue 12).
        register_renderer(
            [Notification.Kind.OBLIGATION_OVERDUE, Notification.Kind.OBLIGATION_ESCALATED],
            render_obligation_overdue,
        )
        # Issue 13: each audit anchor is e-mailed to the audit mailbox (AUDIT_ANCHOR_EMAIL).
        # A failed scheduled anchor alerts the audit mailbox and the governance leads.
        from audit.anchors import on_anchor, on_anchor_failure
        from governance.audit_anchor_mail import (
            AUDIT_ANCHOR_FAILED,
            audit_anchor_failure_alert,
            audit_anchor_mail,
            render_audit_anchor,
            render_audit_anchor_failed,
        )

        on_anchor(audit_anchor_mail)
        on_anchor_failure(audit_anchor_failure_alert)
        register_renderer([Notification.Kind.AUDIT_ANCHOR], render_audit_anchor)
        register_renderer([AUDIT_ANCHOR_FAILED], render_audit_anchor_failed)


def statistics_after_migrate(sender, using="default", plan=None, **kwargs) -> None:
    if plan:
        from governance.services.db_statistics import database_statistics_refresh

        database_statistics_refresh(using)
