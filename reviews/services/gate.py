"""The deployment gate: answer a pipeline and log every call."""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.utils import timezone

from reviews.models import GateCall
from reviews.selectors.gate import GateDecision, find_version
from reviews.selectors.revision_cache import decide

log = logging.getLogger(__name__)


def gate_check(
    *,
    by: User | None,
    version_id: int | None,
    artifact_sha256: str | None,
    environment: str,
    payload: dict,
    remote_addr: str | None = None,
    model_id: int | None = None,
) -> tuple[GateDecision, GateCall]:
    """Decide and log. Anything unexpected blocks (fails closed) and is logged too."""
    try:
        version, problem = find_version(
            version_id=version_id, artifact_sha256=artifact_sha256, model_id=model_id
        )
        if problem:
            decision = GateDecision(allowed=False)
            decision.block(*problem)
        else:
            decision = decide(version, environment)
    except Exception:  # fail closed, never open
        log.exception("deployment gate failed; answering blocked")
        decision = GateDecision(allowed=False)
        decision.block("gate-error", "The gate could not decide; it blocks until it can.")
    call = GateCall.objects.create(
        at=timezone.now(),
        caller=by if by and by.is_authenticated else None,
        remote_addr=remote_addr,
        payload=payload,
        model_version=decision.version,
        environment=str(environment)[:20],
        allowed=decision.allowed,
        reasons=decision.reasons,
        warnings=decision.warnings,
        request_id=decision.request_id,
    )
    return decision, call


def gate_refuse(
    *,
    by: User | None,
    payload: dict,
    environment: str,
    code: str,
    message: str,
    remote_addr: str | None = None,
) -> GateCall:
    """Log a call the gate refused before deciding (a malformed body, a caller without
    a governance role): it answers blocked, and every call is logged (issue 13)."""
    return GateCall.objects.create(
        at=timezone.now(),
        caller=by if by and by.is_authenticated else None,
        remote_addr=remote_addr,
        payload=payload,
        environment=str(environment)[:20],
        allowed=False,
        reasons=[{"code": code, "message": message}],
    )
