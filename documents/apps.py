from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """What the product hands to people outside it: the auditor's evidence pack (every
    record, evidence file, signature and the audit chain of a scope, with an offline
    verifier)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from audit.stored_files import register_stored_files
        from documents.models import EvidencePack, GeneratedDocument

        register_stored_files("evidence-packs", EvidencePack, "file")
        register_stored_files("documents/pdf", GeneratedDocument, "pdf")
        register_stored_files("documents/docx", GeneratedDocument, "docx")
