"""Evidence packs: an auditor's ZIP of one scope (a use case, a version, or the
portfolio over a date range), built by a worker and stored once."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from audit.append_only import AppendOnlyModel


class EvidencePack(models.Model):
    """One request for a pack and, once a worker built it, the stored ZIP with its
    SHA-256 and the digest of its manifest. Who asked, for what, when: the audit trail
    has the request and the result too."""

    class Scope(models.TextChoices):
        USE_CASE = "use_case", "Use case"
        VERSION = "version", "Model version"
        PORTFOLIO = "portfolio", "Portfolio over a date range"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    use_case = models.ForeignKey(
        "inventory.UseCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_packs",
    )
    model_version = models.ForeignKey(
        "inventory.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_packs",
    )
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True, help_text="Included.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    steps_done = models.PositiveBigIntegerField(default=0)
    steps_total = models.PositiveBigIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True, help_text="What the worker is doing.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why it failed, worded for people.")
    file = models.FileField(upload_to="evidence-packs/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    manifest_digest = models.CharField(max_length=64, blank=True)
    verifier_sha256 = models.CharField(
        max_length=64, blank=True, help_text="The SHA-256 of the verify.py inside the pack."
    )
    counts = models.JSONField(
        default=dict, blank=True, help_text="Records, evidence files, signatures, audit events."
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="use_case", use_case__isnull=False)
                | models.Q(scope="version", model_version__isnull=False)
                | models.Q(
                    scope="portfolio",
                    date_from__isnull=False,
                    date_to__isnull=False,
                    date_from__lte=models.F("date_to"),
                ),
                name="evidence_pack_scope_named",
            ),
        ]

    def __str__(self) -> str:
        return f"Evidence pack #{self.pk} of {self.label}"

    @property
    def label(self) -> str:
        if self.scope == self.Scope.VERSION and self.model_version_id:
            return f"model version {self.model_version} (#{self.model_version_id})"
        if self.scope == self.Scope.USE_CASE and self.use_case_id:
            return f'use case "{self.use_case}" (#{self.use_case_id})'
        return f"the portfolio from {self.date_from} to {self.date_to}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.steps_total:
            return 0
        return min(99, int(100 * self.steps_done / self.steps_total))


class GeneratedDocument(models.Model):
    """One governance document generated from the records: of a model version, of a
    use case (``use_case`` set: the use case as a whole, through its version in
    production or else its latest), or of the portfolio (the senior-management report,
    neither set). Its content (sections of facts, the figures, the records it was built
    from) and its SHA-256, rendered by a worker as PDF and Word. Stored once by
    content: asking again while the records are unchanged gives the same row back."""

    class Kind(models.TextChoices):
        ANNEX_IV = "annex_iv", "Technical documentation (EU AI Act Annex IV)"
        VALIDATION_REPORT = "validation_report", "Model validation report"
        MODEL_CARD = "model_card", "Model card"
        PORTFOLIO_REPORT = "portfolio_report", "Portfolio model-risk report"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    model_version = models.ForeignKey(
        "inventory.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        help_text="The version documented (a use case's document: the version it goes by).",
    )
    use_case = models.ForeignKey(
        "inventory.UseCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        help_text="Set for a document of the use case as a whole.",
    )
    as_of = models.DateField(null=True, blank=True, help_text="The portfolio report's date.")
    mail_to_governance = models.BooleanField(
        default=False, help_text="E-mail the PDF to the governance mailbox once rendered."
    )
    content = models.JSONField(help_text="Sections, figures and sources, as rendered.")
    content_sha256 = models.CharField(
        max_length=64, help_text="SHA-256 of the canonical content (no time, no requester)."
    )
    template = models.JSONField(default=dict, help_text="The template's name and version.")
    missing_count = models.PositiveIntegerField(
        default=0, help_text="Items the records do not provide yet, flagged in the document."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=100, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    pdf = models.FileField(upload_to="documents/pdf/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.PositiveBigIntegerField(null=True, blank=True)
    pdf_unavailable = models.TextField(
        blank=True, help_text="Why there is no PDF (e.g. Chromium is not installed)."
    )
    docx = models.FileField(upload_to="documents/docx/%Y/%m/", blank=True)
    docx_sha256 = models.CharField(max_length=64, blank=True)
    docx_size = models.PositiveBigIntegerField(null=True, blank=True)
    signed_pdf = models.FileField(
        upload_to="documents/signed-pdf/%Y/%m/",
        blank=True,
        help_text="Printed again with its signature.",
    )
    signed_pdf_sha256 = models.CharField(max_length=64, blank=True)
    signed_pdf_size = models.PositiveBigIntegerField(null=True, blank=True)
    signed_docx = models.FileField(upload_to="documents/signed-docx/%Y/%m/", blank=True)
    signed_docx_sha256 = models.CharField(max_length=64, blank=True)
    signed_docx_size = models.PositiveBigIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the monthly report the schedule makes.",
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "model_version", "content_sha256"],
                name="document_once_per_content",
            ),
            models.UniqueConstraint(
                fields=["kind", "content_sha256"],
                condition=models.Q(model_version__isnull=True),
                name="portfolio_document_once_per_content",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind="portfolio_report",
                    model_version__isnull=True,
                    use_case__isnull=True,
                    as_of__isnull=False,
                )
                | (~models.Q(kind="portfolio_report") & models.Q(model_version__isnull=False)),
                name="document_scope_named",
            ),
        ]

    # The kinds that describe a model version (or a use case through one).
    SUBJECT_KINDS = (Kind.ANNEX_IV, Kind.VALIDATION_REPORT, Kind.MODEL_CARD)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.subject_label} (#{self.pk})"

    @classmethod
    def subject_kind_choices(cls) -> list[tuple[str, str]]:
        """(value, label) of the kinds a version's or a use case's page offers."""
        return [c for c in cls.Kind.choices if c[0] in cls.SUBJECT_KINDS]

    @property
    def subject_label(self) -> str:
        if self.kind == self.Kind.PORTFOLIO_REPORT:
            return f"the portfolio on {self.as_of}"
        if self.use_case_id:
            return f"the use case {self.use_case} (by {self.model_version})"
        return str(self.model_version)

    @property
    def file_stem(self) -> str:
        """The name a downloaded file starts with."""
        if self.kind == self.Kind.PORTFOLIO_REPORT:
            return f"{self.kind}-{self.as_of}"
        version = self.model_version
        if self.use_case_id:
            return f"{self.kind}-{self.use_case.name}"
        return f"{self.kind}-{version.model.name}-{version.version_label}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def signed_files_pending(self) -> bool:
        """Signed, and the worker has not yet written the signed files."""
        return hasattr(self, "signature") and not self.signed_docx_sha256


class DocumentSignature(AppendOnlyModel):
    """The validator's electronic signature of a validation report (21 CFR Part 11
    manner): who (printed name), when (the server's UTC time), what it means
    ("validated"), and the SHA-256 of a manifest binding the report's content hash, its
    rendered files, the version's artifact and the validation record's own signature.
    One per document; never changed."""

    class Meaning(models.TextChoices):
        VALIDATED = "validated", "Validated"

    document = models.OneToOneField(
        GeneratedDocument, on_delete=models.PROTECT, related_name="signature"
    )
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(
        max_length=300, help_text="The signer's full name and username when signing."
    )
    signed_at = models.DateTimeField(help_text="The server's time (UTC).")
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    manifest = models.JSONField(help_text="What was signed: the report's hashes and subject.")
    manifest_hash = models.CharField(max_length=64)
    auth_method = models.CharField(max_length=30, default="password re-entry")

    class Meta:
        ordering = ["signed_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_meaning_display()} by {self.printed_name} ({self.document})"


class DocumentTemplate(models.Model):
    """The template of one kind of document: which sections, in which order, under
    which titles, with which guidance. Its content lives in versions, published with
    four eyes like the policy (``documents.services.templates``)."""

    kind = models.CharField(max_length=20, choices=GeneratedDocument.Kind.choices, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.name


class DocumentTemplateVersion(models.Model):
    """One version of a document template: a draft edited by governance leads in the
    admin, or a published, immutable version. Documents use the latest published one
    and record its number and hash."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    template = models.ForeignKey(
        DocumentTemplate, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(max_length=500, blank=True, help_text="What changed and why.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "number"], name="documenttemplateversion_unique_number"
            ),
            models.UniqueConstraint(
                fields=["template"],
                condition=models.Q(status="draft"),
                name="documenttemplateversion_one_draft",
                violation_error_message="This template already has a draft version.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="documenttemplateversion_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True)
            if stored.first() == self.Status.PUBLISHED:
                raise ValidationError("A published template version cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_published:
            raise ValidationError("A published template version cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class DocumentTemplateSection(models.Model):
    """One section of a template version: a section the product knows how to fill
    (``key``), under the template's title and guidance, in its order; excluded
    sections are left out of the documents."""

    version = models.ForeignKey(
        DocumentTemplateVersion, on_delete=models.CASCADE, related_name="sections"
    )
    key = models.SlugField(max_length=50, help_text="Which section the records fill.")
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, help_text="Shown in italics under the title.")
    order = models.PositiveIntegerField(default=0)
    included = models.BooleanField(default=True)

    class Meta:
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "key"], name="documenttemplatesection_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self._check_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_editable()
        return super().delete(*args, **kwargs)

    def clean(self):
        from core.documents.sections import SECTIONS

        known = SECTIONS.get(self.version.template.kind, {})
        if self.key not in known:
            raise ValidationError(
                {"key": f"Choose one of the sections of this kind: {', '.join(known)}."}
            )

    def _check_editable(self) -> None:
        if DocumentTemplateVersion.objects.filter(
            pk=self.version_id, status=DocumentTemplateVersion.Status.PUBLISHED
        ).exists():
            raise ValidationError(
                f"{self.version} is published and cannot be changed; start a new draft."
            )
