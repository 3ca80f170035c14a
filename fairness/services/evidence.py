"""Filing a finished summary as evidence for the use case's bias-and-harm-testing
obligation: a JSON document of the dataset, the options and the result, whose SHA-256
later signatures bind to."""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from fairness.models import BiasSummary
from fairness.services.common import BIAS_CONSIDERATION
from governance.selectors.obligations import obligation_for
from governance.services import obligation_submit_evidence


def bias_summary_submit_evidence(*, summary: BiasSummary, by: User, note: str = ""):
    """Submit a done summary (as a JSON file: dataset, options, result) as evidence for
    the use case's bias-and-harm-testing obligation; its SHA-256 is stored and bound
    into later signatures. Raises ValidationError when the summary is not done or the
    use case owes no such obligation; PermissionDenied as obligation_submit_evidence."""
    if summary.status != BiasSummary.Status.DONE:
        raise ValidationError("Only a finished summary can be submitted as evidence.")
    dataset = summary.dataset
    use_case = dataset.model_version.model.use_case
    # The version's own obligation (issue 12): a summary of one version is never
    # evidence for another.
    obligation = obligation_for(version=dataset.model_version, code=BIAS_CONSIDERATION)
    if obligation is None:
        raise ValidationError(
            f"Version {dataset.model_version.version_label} of {use_case.name!r} owes no "
            "bias-and-harm-testing obligation."
        )
    payload = {
        "kind": "bias-summary",
        "summary": summary.pk,
        "model_version": {"id": dataset.model_version_id, "label": str(dataset.model_version)},
        "dataset": {
            "id": dataset.pk,
            "name": dataset.original_name,
            "sha256": dataset.sha256,
            "rows": dataset.rows,
            "mapping": dataset.mapping,
        },
        "options": summary.options,
        "finished_at": summary.finished_at.isoformat() if summary.finished_at else None,
        "result": summary.result,
    }
    body = json.dumps(payload, sort_keys=True, indent=1).encode()
    file = ContentFile(body, name=f"bias-summary-{summary.pk}.json")
    return obligation_submit_evidence(
        obligation=obligation,
        by=by,
        file=file,
        note=note or f"Bias summary #{summary.pk} of {dataset.original_name}.",
    )
