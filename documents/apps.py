from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """What the product hands to people outside it: the auditor's evidence pack (every
    record, evidence file, signature and the audit chain of a scope, with an offline
    verifier) and the governance documents generated from the records (their templates,
    the validator's signature of a report)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from audit.stored_files import register_stored_files
        from documents.models import EvidencePack, GeneratedDocument

        register_stored_files("evidence-packs", EvidencePack, "file")
        register_stored_files("documents/pdf", GeneratedDocument, "pdf")
        register_stored_files("documents/docx", GeneratedDocument, "docx")
        register_stored_files("documents/signed-pdf", GeneratedDocument, "signed_pdf")
        register_stored_files("documents/signed-docx", GeneratedDocument, "signed_docx")

        # A published template version and its sections are frozen in the database too.
        from audit.db_guard import register_frozen
        from documents.models import DocumentTemplateSection, DocumentTemplateVersion

        published = DocumentTemplateVersion.Status.PUBLISHED.value
        register_frozen(
            DocumentTemplateVersion,
            field="status",
            value=published,
            what="a published document template version",
        )
        register_frozen(
            DocumentTemplateSection,
            field="status",
            value=published,
            through="version",
            what="a section of a published document template version",
        )

        # Publishing a document template is a four-eyes change of the framework.
        from documents.services.templates import KIND, template_publish_apply
        from governance.services.framework_changes import register_applier

        register_applier(KIND, template_publish_apply)

        from documents.services.mail import PORTFOLIO_REPORT, render_portfolio_report
        from notifications.registry import register_renderer

        register_renderer([PORTFOLIO_REPORT], render_portfolio_report)

        # A job the outbox gives up turns its pack or document "failed", with why.
        from documents.services.given_up import document_given_up, pack_given_up
        from notifications.jobs import register_give_up

        register_give_up("documents.tasks.evidence_pack_build", pack_given_up)
        register_give_up("documents.tasks.document_render", document_given_up)
