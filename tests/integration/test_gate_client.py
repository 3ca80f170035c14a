"""The gate client blocks a pipeline step (issue 17, "done when"): the client runs as a
separate process, as a pipeline runs it, against the real dashboard (a live server on
the committed test database) with a real API token; first the file the dashboard serves,
then the package from the repository."""

import os
import subprocess
import sys
import urllib.request

import pytest
from django.conf import settings

from accounts.services import api_token_create
from reviews.models import GateCall
from reviews.services import promotion as svc
from tests.reviews.signoff_world import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def approved_for_qa(world, data_scientist, risk_officer, approver):
    """The version approved into QA by both Accountables (as tests/reviews/test_gate.py)."""
    _, version = world
    req = svc.request_create(version=version, by=data_scientist, justification="QA run")
    for signer in (risk_officer, approver):
        svc.request_sign(request=req, by=signer, password=PASSWORD, meaning="approved")
    req.refresh_from_db()
    assert req.status == "approved"
    return version


def pipeline_env(url: str, token: str) -> dict:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("GOVERNANCE_TOKEN", None)
    return {**env, "GOVERNANCE_URL": url, "GOVERNANCE_TOKEN": token}


def run_client(command: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *command, "--retries", "0"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_gate_client_lets_an_approved_step_pass_and_blocks_the_other(
    live_server, approved_for_qa, data_ops, tmp_path
):
    version = approved_for_qa
    _, token = api_token_create(user=data_ops, name="pipeline")
    env = pipeline_env(live_server.url, token)

    # A pipeline on a closed network fetches the client from the dashboard itself.
    download = urllib.request.Request(  # noqa: S310 (the live server's http URL)
        f"{live_server.url}/api/v1/gate/client/", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(download, timeout=30) as response:  # noqa: S310
        (tmp_path / "governance_gate.py").write_bytes(response.read())

    allowed = run_client(
        [str(tmp_path / "governance_gate.py"), "--version", str(version.pk), "--environment", "qa"],
        env,
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert allowed.stdout.startswith(f"ALLOWED: version {version.pk} in qa")

    blocked = run_client(
        [
            "-m",
            "governance_gate",
            "--artifact-sha256",
            version.artifact_sha256,
            "--model",
            str(version.model_id),
            "--environment",
            "prod",
        ],
        env,
    )
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    lines = blocked.stdout.splitlines()
    assert lines[0].startswith("BLOCKED: artifact")
    assert any(line.startswith("  no-approval:") for line in lines)
    assert any(line.startswith("  not-approved-for-environment:") for line in lines)

    calls = list(GateCall.objects.order_by("pk"))
    assert [(c.allowed, c.environment, c.caller) for c in calls] == [
        (True, "qa", data_ops),
        (False, "prod", data_ops),
    ]
    assert calls[1].model_version_id == version.pk
    for call, run in zip(calls, (allowed, blocked), strict=True):
        assert (
            f"(gate call {call.pk}: {live_server.url}/reviews/gate/?call={call.pk})" in run.stdout
        )


def test_the_gate_client_stops_the_step_on_a_refused_token(live_server, approved_for_qa):
    env = pipeline_env(live_server.url, "not-a-token")
    refused = run_client(
        ["-m", "governance_gate", "--version", str(approved_for_qa.pk), "--environment", "qa"],
        env,
    )
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert refused.stdout.startswith("refused (401)")
    assert GateCall.objects.count() == 0
