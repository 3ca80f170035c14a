"""Issue 15, "Done when": the evidence pack of the COMPAS use case verifies offline, and
fails on each tampering (one byte changed in any kind of file, one audit row removed)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from accounts.roles import Role
from audit.anchors import audit_anchor_record
from core import evidence_verifier
from demo.fairness import USE_CASE
from inventory.models import UseCase
from tests.documents import packs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_output")]


@pytest.fixture
def compas_pack(settings, tmp_path):
    settings.AUDIT_ANCHOR_LOG = tmp_path / "anchors.log"
    settings.AUDIT_ANCHOR_KEY = "demo-evidence-pack-key"
    audit_anchor_record()
    auditor = User.objects.filter(groups__name=Role.AUDITOR).order_by("pk").first()
    use_case = UseCase.objects.get(name=USE_CASE)
    return packs.build(auditor, scope="use_case", use_case=use_case)


def test_the_compas_use_case_pack_verifies_offline_and_each_tampering_fails(compas_pack, tmp_path):
    pack = compas_pack
    folder = packs.unpack(pack, tmp_path / "pack")
    manifest = packs.manifest(folder)
    assert pack.counts["evidence_files"] >= 1 and pack.counts["signatures"] >= 1
    evidence = [f["record"] for f in manifest["files"] if f["kind"] == "evidence"]
    assert any(record.startswith("fairness.scoreddataset#") for record in evidence)

    offline = packs.run_offline(["verify.py"], cwd=folder)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "RESULT: intact" in offline.stdout
    assert f"{pack.counts['signatures']} signatures" in offline.stdout
    assert "latest anchor" in offline.stdout

    kinds = {}
    for entry in manifest["files"]:
        kinds.setdefault(entry["kind"], entry["path"])
    targets = sorted(set(kinds.values()) | {"manifest.json", "audit/anchor.json"})
    assert {"records", "evidence", "signatures", "audit", "people", "verifier"} <= set(kinds)
    for index, name in enumerate(targets):
        tampered = packs.unpack(pack, tmp_path / f"t{index}")
        packs.flip_one_byte(tampered / name)
        # The auditor's own copy of the checker, on the tampered pack.
        result = packs.run_offline([str(folder / "verify.py"), str(tampered)], cwd=tmp_path)
        assert result.returncode == evidence_verifier.FAILED, (name, result.stdout)
        assert f"FAIL  {name}" in result.stdout, (name, result.stdout)

    removed = packs.unpack(pack, tmp_path / "removed")
    lines = (removed / "audit/events.jsonl").read_text().splitlines(keepends=True)
    seq = json.loads(lines[len(lines) // 3])["seq"]
    del lines[len(lines) // 3]
    (removed / "audit/events.jsonl").write_text("".join(lines))
    result = packs.run_offline([str(folder / "verify.py"), str(removed)], cwd=tmp_path)
    assert result.returncode == evidence_verifier.FAILED
    assert f"audit event seq {seq} is missing" in result.stdout


def test_a_use_case_with_signed_experiment_protocols_verifies(settings, tmp_path):
    """Experiment protocols hold 0.0s: their signatures' hashes cover them as stored."""
    from reviews.models import Signature

    settings.AUDIT_ANCHOR_LOG = tmp_path / "anchors.log"
    settings.AUDIT_ANCHOR_KEY = "demo-evidence-pack-key"
    signed = Signature.objects.filter(experiment__isnull=False).select_related("experiment")
    assert signed.exists()
    auditor = User.objects.filter(groups__name=Role.AUDITOR).order_by("pk").first()
    pack = packs.build(auditor, scope="use_case", use_case=signed.first().experiment.use_case)
    folder = packs.unpack(pack, tmp_path / "pack")
    result = packs.run_offline(["verify.py"], cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert pack.counts["signatures"] >= 1
