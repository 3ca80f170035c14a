"""The auditor's evidence pack (issue 15): who may make one, what it holds, the offline
verifier, and each tampering it must catch."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import warnings
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.anchors import audit_anchor_record
from audit.models import AuditEvent
from core import evidence_verifier
from core.audit_chain import event_hash as product_event_hash
from core.promotion_rules import manifest_hash
from documents import services
from documents.models import EvidencePack
from notifications.models import JobMarker
from reviews.models import Signature
from tests.documents import packs
from tests.factories import (
    FindingFactory,
    ModelVersionFactory,
    ObligationFactory,
    PromotionRequestFactory,
    UseCaseFactory,
)

pytestmark = pytest.mark.django_db

EVIDENCE = b"Validation report, hold-out AUC 0.81.\n" * 40


@pytest.fixture
def anchors(settings, tmp_path):
    settings.AUDIT_ANCHOR_LOG = tmp_path / "anchors.log"
    settings.AUDIT_ANCHOR_KEY = "evidence-pack-test-key"


@pytest.fixture
def world(media, anchors, team, data_scientist, risk_officer):
    """A use case with a version, an obligation with a stored evidence file, a signed
    request and a finding; then another use case's records after it; then an anchor."""
    use_case = UseCaseFactory(team=team, name="Retail credit scoring")
    version = ModelVersionFactory(model__use_case=use_case)
    obligation = ObligationFactory(use_case=use_case, model_version=version)
    name = default_storage.save("obligations/evidence/2026/12/report.txt", ContentFile(EVIDENCE))
    obligation.evidence_file.name = name
    obligation.evidence_name = "report.txt"
    obligation.evidence_sha256 = hashlib.sha256(EVIDENCE).hexdigest()
    obligation.evidence_size = len(EVIDENCE)
    obligation.status = "evidence_submitted"
    obligation.save()
    request = PromotionRequestFactory(model_version=version)
    # 0.0 and 1.0 as a protocol stores them: the hash covers them as written.
    signed = {
        "artifact_sha256": version.artifact_sha256,
        "obligations": [obligation.pk],
        "protocol": {"max_duplicate_share": 0.0, "ratio": 1.0, "alpha": 0.05},
    }
    Signature.objects.create(
        request=request,
        signer=risk_officer,
        printed_name="Risk Officer (risk)",
        signed_at=timezone.now(),
        meaning=Signature.Meaning.REVIEWED,
        slot="model-acceptance",
        manifest=signed,
        manifest_hash=manifest_hash(signed),
    )
    FindingFactory(model_version=version)
    other = UseCaseFactory(team=team, name="Unrelated use case")
    ModelVersionFactory(model__use_case=other)
    audit_anchor_record()
    return {"use_case": use_case, "version": version, "obligation": obligation, "other": other}


def _scope(world, kind="use_case"):
    if kind == "version":
        return {"scope": "version", "model_version": world["version"]}
    return {"scope": "use_case", "use_case": world["use_case"]}


# --- Who may make, read and download packs ---------------------------------------------


@pytest.mark.parametrize("role", [Role.DATA_SCIENTIST, Role.APPROVER, Role.VALIDATOR])
def test_people_who_do_not_read_the_whole_trail_get_no_pack_by_any_route(
    role, world, users_by_role, auditor, client_for, api_client_for
):
    pack = packs.build(auditor, **_scope(world))
    user = users_by_role[role]
    client, api = client_for(user), api_client_for(user)
    events_before = AuditEvent.objects.exclude(action="access.refused").count()

    assert client.get(reverse("documents:packs")).status_code == 403
    answer = client.post(
        reverse("documents:pack-request"), {"scope": "use_case", "use_case": world["use_case"].pk}
    )
    assert answer.status_code == 403
    for name in ("documents:pack", "documents:pack-status", "documents:pack-download"):
        assert client.get(reverse(name, args=[pack.pk])).status_code == 403
    assert api.get("/api/v1/evidence-packs/").json()["results"] == []
    assert api.get(f"/api/v1/evidence-packs/{pack.pk}/").status_code == 404
    assert api.get(f"/api/v1/evidence-packs/{pack.pk}/file/").status_code == 404
    made = api.post(
        "/api/v1/evidence-packs/",
        {"scope": "use_case", "use_case": world["use_case"].pk},
        format="json",
    )
    assert made.status_code == 403
    assert EvidencePack.objects.count() == 1
    written = AuditEvent.objects.exclude(action="access.refused")
    assert written.count() == events_before
    # Each refused write is in the trail, attributed.
    assert AuditEvent.objects.filter(action="access.refused", actor=user).count() >= 2


def test_an_auditor_asks_on_the_page_a_worker_builds_and_the_download_is_audited(
    world, auditor, client_for
):
    client = client_for(auditor)
    answer = client.post(
        reverse("documents:pack-request"), {"scope": "use_case", "use_case": world["use_case"].pk}
    )
    pack = EvidencePack.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("documents:pack", args=[pack.pk])
    assert pack.status == EvidencePack.Status.QUEUED
    assert JobMarker.objects.filter(task="documents.tasks.evidence_pack_build").count() == 1
    page = client.get(reverse("documents:pack", args=[pack.pk]))
    assert b'data-status-url="' in page.content
    assert client.get(reverse("documents:pack-status", args=[pack.pk])).json()["finished"] is False

    services.evidence_pack_build(pack_id=pack.pk)

    pack.refresh_from_db()
    status = client.get(reverse("documents:pack-status", args=[pack.pk])).json()
    assert status["finished"] is True and status["percent"] == 100
    download = client.get(reverse("documents:pack-download", args=[pack.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == pack.sha256 == download["X-Checksum-SHA256"]
    actions = list(
        AuditEvent.objects.filter(object_type="documents.evidencepack", object_id=str(pack.pk))
        .order_by("seq")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("evidence_pack.requested", auditor.pk),
        ("evidence_pack.generated", None),
        ("evidence_pack.downloaded", auditor.pk),
    ]
    generated = AuditEvent.objects.get(action="evidence_pack.generated")
    assert generated.changes["sha256"] == [None, pack.sha256]
    assert generated.parent_id == str(world["use_case"].pk)
    # Built twice (a redelivered message): the pack stays as it was.
    assert services.evidence_pack_build(pack_id=pack.pk)["status"] == "done already"


def test_the_api_asks_reads_and_downloads(world, risk_officer, api_client_for):
    api = api_client_for(risk_officer)
    made = api.post(
        "/api/v1/evidence-packs/",
        {"scope": "version", "model_version": world["version"].pk},
        format="json",
    )
    assert made.status_code == 202, made.content
    pack_id = made.json()["id"]
    assert api.get(f"/api/v1/evidence-packs/{pack_id}/file/").status_code == 404  # not built
    services.evidence_pack_build(pack_id=pack_id)
    row = api.get(f"/api/v1/evidence-packs/{pack_id}/").json()
    assert row["status"] == "done" and row["counts"]["signatures"] == 1
    download = api.get(f"/api/v1/evidence-packs/{pack_id}/file/")
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == row["sha256"]


# --- Bad input: a clear 400, nothing written --------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"scope": "use_case"}, "use_case"),
        ({"scope": "version"}, "model_version"),
        ({"scope": "version", "model_version": 99999999}, "model_version"),
        ({"scope": "portfolio"}, "date_from"),
        ({"scope": "portfolio", "date_from": "2026-03-01", "date_to": "2026-02-01"}, "date_to"),
        ({"scope": "portfolio", "date_from": "2026-01-01", "date_to": "2999-01-01"}, "date_to"),
        ({"scope": "portfolio", "date_from": "1999-12-31", "date_to": "2000-01-10"}, "date_from"),
        ({"scope": "portfolio", "date_from": "2026-13-01", "date_to": "2026-12-01"}, "date_from"),
        ({"scope": "everything"}, "scope"),
    ],
)
def test_a_pack_that_names_nothing_or_a_range_out_of_bounds_is_refused(
    data, field, auditor, client_for, api_client_for
):
    client, api_client = client_for(auditor), api_client_for(auditor)
    events_before = AuditEvent.objects.count()
    page = client.post(reverse("documents:pack-request"), data)
    assert page.status_code == 400
    assert b"has-error" in page.content or b"alert" in page.content
    api = api_client.post("/api/v1/evidence-packs/", data, format="json")
    assert api.status_code == 400
    assert field in json.dumps(api.json())
    assert EvidencePack.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_an_unknown_api_field_is_a_400(auditor, api_client_for, world):
    answer = api_client_for(auditor).post(
        "/api/v1/evidence-packs/",
        {"scope": "use_case", "use_case": world["use_case"].pk, "requested_by": 1},
        format="json",
    )
    assert answer.status_code == 400
    assert "requested_by" in answer.json()


# --- What the pack holds, and the verifier ----------------------------------------------


def test_the_pack_holds_the_scope_and_verifies_on_a_machine_that_never_saw_the_product(
    world, auditor, tmp_path
):
    pack = packs.build(auditor, **_scope(world))
    folder = packs.unpack(pack, tmp_path / "pack")
    manifest = packs.manifest(folder)

    uc = json.loads((folder / "records/inventory.usecase.json").read_text())
    assert [row["pk"] for row in uc] == [world["use_case"].pk]
    versions = json.loads((folder / "records/inventory.modelversion.json").read_text())
    assert [row["pk"] for row in versions] == [world["version"].pk]
    assert versions[0]["fields"]["artifact_sha256"] == world["version"].artifact_sha256
    evidence = [f for f in manifest["files"] if f["kind"] == "evidence"]
    assert [(f["record"], f["sha256"]) for f in evidence] == [
        (f"governance.obligation#{world['obligation'].pk}", hashlib.sha256(EVIDENCE).hexdigest())
    ]
    assert (folder / evidence[0]["path"]).read_bytes() == EVIDENCE
    # The segment runs from the use case's first event to the head, every event between.
    rows = packs.events(folder)
    seqs = [row["seq"] for row in rows]
    assert seqs == list(range(seqs[0], seqs[-1] + 1))
    assert seqs[-1] == manifest["audit"]["last_seq"]
    first = AuditEvent.objects.filter(object_type="inventory.usecase").order_by("seq").first()
    assert seqs[0] == first.seq
    in_scope = {
        (r["payload"]["object_type"], r["payload"]["object_id"]) for r in rows if r["in_scope"]
    }
    assert ("inventory.usecase", str(world["use_case"].pk)) in in_scope
    assert ("inventory.usecase", str(world["other"].pk)) not in in_scope
    anchor = manifest["audit"]["anchor"]
    assert anchor["hash"] == next(r["hash"] for r in rows if r["seq"] == anchor["seq"])
    # The verifier's hash is the product's.
    assert all(
        product_event_hash(r["prev_hash"], r["payload"])
        == evidence_verifier.event_hash(r["prev_hash"], r["payload"])
        == r["hash"]
        for r in rows
    )

    offline = packs.run_offline(["verify.py"], cwd=folder)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "RESULT: intact" in offline.stdout
    assert "1 evidence files" in offline.stdout and "1 signatures" in offline.stdout
    # The ZIP as downloaded, with the verifier copied elsewhere.
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/verify.py").write_bytes((folder / "verify.py").read_bytes())
    zipped = tmp_path / "elsewhere/pack.zip"
    with pack.file.open("rb") as handle:
        zipped.write_bytes(handle.read())
    on_zip = packs.run_offline(["verify.py", "pack.zip"], cwd=tmp_path / "elsewhere")
    assert on_zip.returncode == 0, on_zip.stdout
    assert hashlib.sha256((folder / "verify.py").read_bytes()).hexdigest() == pack.verifier_sha256


def test_every_file_changed_by_one_byte_fails_naming_the_file(world, auditor, tmp_path):
    pack = packs.build(auditor, **_scope(world))
    pristine = packs.unpack(pack, tmp_path / "pristine")
    names = [f["path"] for f in packs.manifest(pristine)["files"]] + ["manifest.json"]
    assert {"verify.py", "signatures.json", "audit/events.jsonl", "people.json"} <= set(names)
    for index, name in enumerate(names):
        folder = packs.unpack(pack, tmp_path / f"t{index}")
        packs.flip_one_byte(folder / name)
        code, out = packs.check(folder)
        assert code == evidence_verifier.FAILED, (name, out)
        assert f"FAIL  {name}" in out, (name, out)


def test_one_audit_row_removed_fails_naming_the_row(world, auditor, tmp_path):
    pack = packs.build(auditor, **_scope(world))
    folder = packs.unpack(pack, tmp_path / "pack")
    lines = (folder / "audit/events.jsonl").read_text().splitlines(keepends=True)
    removed = json.loads(lines[len(lines) // 2])["seq"]
    del lines[len(lines) // 2]
    (folder / "audit/events.jsonl").write_text("".join(lines))

    code, out = packs.check(folder)

    assert code == evidence_verifier.FAILED
    assert "FAIL  audit/events.jsonl: SHA-256" in out
    assert f"audit event seq {removed} is missing" in out


def _rewrite_manifest(folder, change):
    """What a forger who knows the formats does: fix the listed hashes and the digest."""
    manifest = packs.manifest(folder)
    change(manifest)
    for entry in manifest["files"]:
        data = (folder / entry["path"]).read_bytes()
        entry["sha256"], entry["size"] = hashlib.sha256(data).hexdigest(), len(data)
    manifest["manifest_digest"] = evidence_verifier.manifest_digest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_row_removed_with_the_manifest_made_to_match_still_fails_on_the_chain(
    world, auditor, tmp_path
):
    pack = packs.build(auditor, **_scope(world))
    folder = packs.unpack(pack, tmp_path / "pack")
    rows = packs.events(folder)
    gone = rows.pop(len(rows) // 2)
    (folder / "audit/events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _rewrite_manifest(folder, lambda m: m["audit"].update(events=m["audit"]["events"] - 1))

    code, out = packs.check(folder)

    assert code == evidence_verifier.FAILED
    assert f"audit event seq {gone['seq']} is missing" in out


def test_an_event_rewritten_with_every_hash_after_it_fails_on_the_anchor(world, auditor, tmp_path):
    pack = packs.build(auditor, **_scope(world))
    folder = packs.unpack(pack, tmp_path / "pack")
    rows = packs.events(folder)
    target = next(r for r in rows if r["in_scope"])
    target["payload"]["reason"] = "rewritten"
    head = rows[0]["prev_hash"]
    for row in rows:  # re-chain the whole tail, as a forger would
        row["prev_hash"] = head
        row["hash"] = head = evidence_verifier.event_hash(head, row["payload"])
    (folder / "audit/events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _rewrite_manifest(folder, lambda m: m["audit"].update(head=head))

    code, out = packs.check(folder)

    assert code == evidence_verifier.FAILED
    assert "FAIL  audit/anchor.json: the chain's hash at seq" in out
    # With the anchor rewritten too, the head the auditor holds still catches it.
    anchor = json.loads((folder / "audit/anchor.json").read_text())
    true_head = anchor["hash"]
    anchor["hash"] = next(r["hash"] for r in rows if r["seq"] == anchor["seq"])
    (folder / "audit/anchor.json").write_text(json.dumps(anchor))
    _rewrite_manifest(folder, lambda m: m["audit"].update(head=head))
    assert packs.check(folder)[0] == evidence_verifier.INTACT  # the pack alone cannot tell
    code, out = packs.check(folder, expect=(anchor["seq"], true_head))
    assert code == evidence_verifier.FAILED
    assert f"the chain's hash at seq {anchor['seq']} is not the" in out


def test_a_signature_whose_manifest_was_edited_fails(world, auditor, tmp_path):
    pack = packs.build(auditor, **_scope(world))
    folder = packs.unpack(pack, tmp_path / "pack")
    signatures = json.loads((folder / "signatures.json").read_text())
    signatures[0]["manifest"]["obligations"] = []
    (folder / "signatures.json").write_text(json.dumps(signatures))
    _rewrite_manifest(folder, lambda m: None)

    code, out = packs.check(folder)

    assert code == evidence_verifier.FAILED
    assert f"signature #{signatures[0]['id']}" in out and "does not hash" in out


def test_a_stored_evidence_file_swapped_after_it_was_recorded_shows_in_the_pack(
    world, auditor, tmp_path
):
    obligation = world["obligation"]
    with default_storage.open(obligation.evidence_file.name, "wb") as handle:
        handle.write(b"another report\n")

    pack = packs.build(auditor, **_scope(world))

    assert pack.counts["mismatched"] == 1
    code, out = packs.check(packs.unpack(pack, tmp_path / "pack"))
    assert code == evidence_verifier.FAILED
    assert f"governance.obligation#{obligation.pk} holds" in out


def test_a_missing_evidence_file_is_named_and_the_pack_still_made(world, auditor, tmp_path):
    default_storage.delete(world["obligation"].evidence_file.name)

    pack = packs.build(auditor, **_scope(world))

    assert pack.counts["missing"] == 1
    code, out = packs.check(packs.unpack(pack, tmp_path / "pack"))
    assert code == evidence_verifier.FAILED
    assert "was not in the store when the pack was made" in out


def test_a_pack_of_a_version_with_almost_no_records_verifies(media, anchors, auditor, tmp_path):
    version = ModelVersionFactory()
    pack = packs.build(auditor, scope="version", model_version=version)
    code, out = packs.check(packs.unpack(pack, tmp_path / "pack"))
    assert code == evidence_verifier.INTACT, out
    assert "0 evidence files" in out and "0 signatures" in out


def test_a_portfolio_pack_holds_what_was_made_in_the_range(world, auditor, tmp_path):
    today = timezone.localdate()
    pack = packs.build(
        auditor, scope="portfolio", date_from=today - dt.timedelta(days=7), date_to=today
    )
    folder = packs.unpack(pack, tmp_path / "pack")
    assert packs.check(folder)[0] == evidence_verifier.INTACT
    use_cases = json.loads((folder / "records/inventory.usecase.json").read_text())
    assert {row["pk"] for row in use_cases} >= {world["use_case"].pk, world["other"].pk}
    signatures = json.loads((folder / "signatures.json").read_text())
    assert len(signatures) == 1

    old = packs.build(
        auditor, scope="portfolio", date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 1, 31)
    )
    old_folder = packs.unpack(old, tmp_path / "old")
    assert json.loads((old_folder / "signatures.json").read_text()) == []
    assert packs.check(old_folder)[0] == evidence_verifier.INTACT


def test_a_forged_anchor_log_fails_the_pack_with_the_reason(world, auditor, settings):
    with open(settings.AUDIT_ANCHOR_LOG, "a") as log:
        log.write('{"v": 1, "seq": 1, "hash": "' + "a" * 64 + '", "at": "x", "mac": "forged"}\n')
    pack = services.evidence_pack_request(user=auditor, **_scope(world))

    services.evidence_pack_build(pack_id=pack.pk)

    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.FAILED
    assert "does not verify with the anchor key" in pack.error
    assert AuditEvent.objects.filter(action="evidence_pack.failed").count() == 1


def test_not_a_pack_is_said_so(tmp_path):
    (tmp_path / "not.zip").write_bytes(b"hello")
    code, out = packs.check(tmp_path / "not.zip")
    assert code == evidence_verifier.NOT_A_PACK
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    assert packs.check(tmp_path / "empty.zip")[0] == evidence_verifier.NOT_A_PACK


def test_a_damaged_zip_fails_naming_the_entry_never_a_traceback(world, auditor, tmp_path):
    pack = packs.build(auditor, **_scope(world))
    with pack.file.open("rb") as handle:
        data = bytearray(handle.read())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("audit/events.jsonl")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF  # inside the compressed bytes
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))

    result = packs.run_offline([str(evidence_verifier.__file__), str(damaged)], cwd=tmp_path)

    assert result.returncode == evidence_verifier.FAILED, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "FAIL  audit/events.jsonl" in result.stdout


def test_a_zip_with_a_second_entry_of_one_name_or_a_name_outside_fails(world, auditor, tmp_path):
    pack = packs.build(auditor, **_scope(world))
    folder = packs.unpack(pack, tmp_path / "pack")
    for name, extra in (("people.json", b"[]\n"), ("../outside.txt", b"x")):
        forged = tmp_path / f"forged-{len(name)}.zip"
        with pack.file.open("rb") as handle:
            forged.write_bytes(handle.read())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
            with zipfile.ZipFile(forged, "a") as archive:
                archive.writestr(name, extra)
        code, out = packs.check(forged)
        assert code == evidence_verifier.FAILED, out
        assert f"FAIL  {name}: a duplicated entry, or a name outside" in out
    assert packs.check(folder)[0] == evidence_verifier.INTACT
