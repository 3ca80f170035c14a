"""Stored files no record refers to (issue 13: kill the web process mid-upload -> no
orphan file): the media sweep removes them once older than the grace period, audited,
and never a file an upload is about to commit (audit/stored_files.py).

The race is played both ways in one process by running the other side at the moment
the lock is taken: an upload that reuses the orphan and commits while the sweep is
between its first look and its check under the lock (the file is kept), and a sweep
that removes the orphan an upload had decided to reuse (the upload stores it again).
On PostgreSQL the same race runs in two threads, the sweep seen waiting for the lock.
"""

import datetime as dt
import hashlib
import threading
import time
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InMemoryStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from audit import stored_files
from audit.models import AuditEvent
from audit.services import ADVISORY_LOCK_KEY
from audit.stored_files import media_sweep, stored_file_discard
from audit.tasks import media_sweep as media_sweep_task
from fairness import services as fairness_services
from fairness.models import ScoredDataset
from governance.celery import app as celery_app
from governance.selectors import obligation_list
from governance.services import obligation_submit_evidence, obligations_recompute
from governance.settings import CELERY_BEAT_SCHEDULE
from inventory.choices import RiskTier
from tests.factories import ModelVersionFactory, ScoredDatasetFactory, UseCaseFactory
from tests.fairness.uploads import validated

pytestmark = pytest.mark.django_db

MAPPING = {"outcome": "y", "prediction": "y_hat", "sensitive": ["race"]}
CSV = b"y,y_hat,race\n1,0,A\n0,1,B\n1,1,A\n0,0,B\n"
SHA = hashlib.sha256(CSV).hexdigest()
STORED = f"scored-data/{SHA[:2]}/{SHA}.csv"  # where the upload of CSV stores it


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_SWEEP_GRACE_MINUTES = 60
    return settings.MEDIA_ROOT


def later(hours: float = 2) -> dt.datetime:
    """A sweep's clock this much later: what is stored now is then past the grace."""
    return timezone.now() + dt.timedelta(hours=hours)


def orphan(name: str = STORED, data: bytes = CSV) -> str:
    """A file stored by an upload whose process died before its row committed."""
    stored = default_storage.save(name, ContentFile(data))
    assert stored == name
    return stored


def upload(version, by):
    return validated(
        fairness_services.scored_dataset_upload(
            version=version, by=by, file=ContentFile(CSV, name="scores.csv"), mapping=MAPPING
        )
    )


def removals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="media.orphans_removed"))


def removed_names(event: AuditEvent) -> list[str]:
    old, new = event.changes["files"]
    assert new is None
    return [f["name"] for f in old]


@pytest.fixture
def version(team):
    return ModelVersionFactory(model__use_case=UseCaseFactory(team=team))


# --- what is an orphan ----------------------------------------------------------------


def test_a_file_no_row_names_older_than_the_grace_is_removed_and_audited():
    name = orphan()
    report = media_sweep(now=later())
    assert report.names == [name]
    assert not default_storage.exists(name)
    [event] = removals()
    assert removed_names(event) == [name]
    assert event.changes["files"][0][0]["size"] == len(CSV)
    assert name in event.reason and "1 h" in event.reason
    assert event.object_type == "audit.mediastorage" and event.actor is None


def test_a_young_file_no_row_names_is_kept():
    name = orphan()
    report = media_sweep(now=later(hours=0.5))
    assert report.names == [] and report.young == 1
    assert default_storage.exists(name)
    assert removals() == []


def test_the_grace_period_is_a_setting(settings):
    name = orphan()
    settings.MEDIA_SWEEP_GRACE_MINUTES = 10
    assert media_sweep(now=later(hours=0.5)).names == [name]
    assert not default_storage.exists(name)


def test_a_file_a_row_names_is_kept(version, data_scientist):
    dataset, _ = upload(version, data_scientist)
    report = media_sweep(now=later())
    assert report.names == [] and report.referenced == 1
    assert default_storage.exists(dataset.file.name)
    assert removals() == []


@pytest.fixture
def evidence_obligation(team):
    use_case = UseCaseFactory(team=team, risk_tier=RiskTier.HIGH)
    ModelVersionFactory(model__use_case=use_case)
    obligations_recompute(use_case=use_case)
    return obligation_list(use_case=use_case).get(consideration__code="human-signoff")


def test_replaced_evidence_is_kept_because_the_trail_names_it(evidence_obligation, data_scientist):
    """Only files no committed record ever named are orphans: evidence replaced by a
    newer file is still evidence (the audit trail records both names)."""
    first = obligation_submit_evidence(
        obligation=evidence_obligation,
        by=data_scientist,
        file=SimpleUploadedFile("report.pdf", b"%PDF first"),
    ).evidence_file.name
    second = obligation_submit_evidence(
        obligation=evidence_obligation,
        by=data_scientist,
        file=SimpleUploadedFile("report-v2.pdf", b"%PDF second"),
    ).evidence_file.name
    assert first != second and first.startswith("obligations/evidence/")
    report = media_sweep(now=later())
    assert report.names == [] and report.referenced == 2
    assert default_storage.exists(first) and default_storage.exists(second)


def test_an_evidence_file_whose_row_never_committed_is_removed(evidence_obligation):
    name = orphan(f"obligations/evidence/{evidence_obligation.use_case_id}/1/lost.pdf", b"%PDF")
    assert media_sweep(now=later()).names == [name]
    assert not default_storage.exists(name)


def test_a_readiness_probe_file_left_behind_is_removed():
    name = orphan("readyz/0123abcd.txt", b"ok")
    assert media_sweep(now=later()).names == [name]


def test_files_outside_the_registered_folders_are_never_touched():
    name = orphan("elsewhere/notes.txt", b"not ours")
    assert media_sweep(now=later()).names == []
    assert default_storage.exists(name)


def test_only_the_storage_api_is_used_so_object_storage_works_too():
    """No walk of MEDIA_ROOT: any Django storage (django-storages' S3 in production)."""
    storage = InMemoryStorage()
    kept = storage.save("scored-data/aa/kept.csv", ContentFile(b"x"))
    lost = storage.save("scored-data/bb/lost.csv", ContentFile(b"y"))
    ScoredDatasetFactory(file=kept)
    report = media_sweep(now=later(), storage=storage)
    assert report.names == [lost] and report.referenced == 1
    assert storage.exists(kept) and not storage.exists(lost)


def test_an_empty_storage_sweeps_to_nothing():
    report = media_sweep(now=later())
    assert (report.names, report.young, report.referenced) == ([], 0, 0)
    assert removals() == []


def test_a_file_the_storage_refuses_to_delete_is_reported_and_the_rest_removed(monkeypatch):
    stuck, other = orphan(), orphan("readyz/old.txt", b"ok")
    real_delete = FileSystemStorage.delete

    def refuse(self, name):
        if name == stuck:
            raise PermissionError("read-only")
        real_delete(self, name)

    monkeypatch.setattr(FileSystemStorage, "delete", refuse)
    report = media_sweep(now=later())
    assert report.failed == [stuck] and report.names == [other]
    assert default_storage.exists(stuck) and not default_storage.exists(other)
    [event] = removals()
    assert removed_names(event) == [other]


# --- the race -------------------------------------------------------------------------


def test_an_orphan_reused_by_an_upload_committed_during_the_sweep_is_kept(
    version, data_scientist, monkeypatch
):
    """The sweep's first look finds no row; an upload of the same bytes reuses the file
    and commits before the sweep takes the lock; the check under the lock sees it."""
    name = orphan()
    real_lock = stored_files.stored_file_lock
    uploaded = []

    started = []

    def upload_commits_first():
        if not started:  # once (the upload's own discard of its quarantined copy locks too)
            started.append(True)
            uploaded.append(upload(version, data_scientist)[0])
        real_lock()

    monkeypatch.setattr(stored_files, "stored_file_lock", upload_commits_first)
    report = media_sweep(now=later())
    [dataset] = uploaded
    assert dataset.file.name == name  # reused, not stored again
    assert list(ScoredDataset.objects.values_list("file", flat=True)) == [name]
    assert report.names == [] and report.referenced == 1
    assert default_storage.open(name).read() == CSV
    assert removals() == []


def test_an_upload_reusing_an_orphan_the_sweep_removed_stores_it_again(
    version, data_scientist, monkeypatch
):
    """The upload's publication (issue 18: the worker's, once every row is valid) sees
    the orphan and decides to reuse it; the sweep removes it before the publication
    takes the lock; the check under the lock stores it again."""
    name = orphan()
    real_lock = stored_files.stored_file_lock
    swept = []

    def sweep_first():
        if not swept:
            swept.append(media_sweep(now=later()))
        real_lock()

    monkeypatch.setattr(fairness_services.validation, "stored_file_lock", sweep_first)
    dataset, created = upload(version, data_scientist)
    assert created and swept[0].names == [name]
    assert dataset.file.name == name
    assert default_storage.open(dataset.file.name).read() == CSV
    assert len(removals()) == 1


def test_an_upload_of_bytes_stored_before_reuses_the_file(version, data_scientist):
    name = orphan()
    dataset, created = upload(version, data_scientist)
    assert created and dataset.file.name == name
    assert default_storage.listdir(f"scored-data/{SHA[:2]}")[1] == [f"{SHA}.csv"]


def test_discarding_a_file_another_row_names_keeps_it(version, data_scientist):
    """Object storage overwrites a name saved twice: an upload that fails after storing
    the same bytes another upload committed must not delete that upload's file."""
    dataset, _ = upload(version, data_scientist)
    assert stored_file_discard(dataset.file.name) is False
    assert default_storage.exists(dataset.file.name)
    lone = orphan("readyz/x.txt", b"ok")
    assert stored_file_discard(lone) is True
    assert not default_storage.exists(lone)


def test_a_failed_evidence_submission_leaves_no_file(
    evidence_obligation, data_scientist, monkeypatch, media
):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("governance.services.obligations._event", fail)
    with pytest.raises(RuntimeError):
        obligation_submit_evidence(
            obligation=evidence_obligation,
            by=data_scientist,
            file=SimpleUploadedFile("report.pdf", b"%PDF"),
        )
    assert [p for p in media.rglob("*") if p.is_file()] == []
    evidence_obligation.refresh_from_db()
    assert not evidence_obligation.evidence_file


def _waiting_for_chain_lock(pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s "
            "AND objid = %s AND NOT granted",
            [pid, ADVISORY_LOCK_KEY],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's advisory locks")
@pytest.mark.django_db(transaction=True)
def test_a_sweep_waits_for_an_upload_holding_the_lock_and_keeps_its_file(
    version, data_scientist, monkeypatch
):
    """Two threads, two connections: the upload holds the writers' lock (file reused,
    row not yet committed); the sweep blocks on the lock, then sees the row."""
    name = orphan()
    locked, release = threading.Event(), threading.Event()
    real_lock = stored_files.stored_file_lock
    sweep_pid: list[int] = []
    results: dict = {}
    errors: list[BaseException] = []

    def lock_then_hold():
        real_lock()
        locked.set()
        release.wait(60)

    def uploader():
        try:
            results["dataset"] = upload(version, data_scientist)[0]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def sweeper():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                sweep_pid.append(cursor.fetchone()[0])
            results["report"] = media_sweep(now=later())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    monkeypatch.setattr(fairness_services.validation, "stored_file_lock", lock_then_hold)
    up = threading.Thread(target=uploader)
    up.start()
    assert locked.wait(60)
    sweep = threading.Thread(target=sweeper)
    sweep.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (sweep_pid and _waiting_for_chain_lock(sweep_pid[0])):
        time.sleep(0.02)
    waited = bool(sweep_pid) and _waiting_for_chain_lock(sweep_pid[0])
    release.set()
    up.join(60)
    sweep.join(60)
    assert errors == []
    assert waited, "the sweep did not wait for the upload's lock"
    assert results["dataset"].file.name == name
    assert results["report"].names == [] and default_storage.exists(name)


# --- beat, command, task --------------------------------------------------------------


def test_beat_runs_the_sweep_hourly_on_the_light_queue():
    [entry] = [e for e in CELERY_BEAT_SCHEDULE.values() if e["task"] == "audit.tasks.media_sweep"]
    assert entry["schedule"] == 60 * 60
    assert celery_app.amqp.router.route({}, "audit.tasks.media_sweep")["queue"].name == "light"


def test_the_task_removes_orphans_and_says_how_many(settings):
    settings.MEDIA_SWEEP_GRACE_MINUTES = 0
    name = orphan()
    assert media_sweep_task() == "1 orphan file(s) removed, 0 failed"
    assert not default_storage.exists(name)
    [event] = removals()
    assert event.actor_label.startswith("system:")


def test_the_command_dry_run_lists_and_changes_nothing(settings):
    settings.MEDIA_SWEEP_GRACE_MINUTES = 0
    name = orphan()
    out = StringIO()
    call_command("media_sweep", "--dry-run", stdout=out)
    assert f"Would remove {name} ({len(CSV)} bytes" in out.getvalue()
    assert "Would remove 1 orphan file(s)" in out.getvalue()
    assert default_storage.exists(name) and removals() == []


def test_the_command_removes_and_audits(settings, version, data_scientist):
    settings.MEDIA_SWEEP_GRACE_MINUTES = 0
    dataset, _ = upload(version, data_scientist)
    name = orphan("readyz/left.txt", b"ok")
    out = StringIO()
    call_command("media_sweep", stdout=out)
    assert f"Removed {name}" in out.getvalue()
    assert "Removed 1 orphan file(s); kept 1 a record names" in out.getvalue()
    assert not default_storage.exists(name) and default_storage.exists(dataset.file.name)
    [event] = removals()
    assert removed_names(event) == [name]
