"""Monitoring services (issue #6): configuration from the obligations, the reference
profile built once, windows computed idempotently, drift alerts once per (feature,
kind) with one finding and one e-mail, acknowledge/resolve history and permissions,
outcomes joined by prediction id, and bad input recorded rather than crashing."""

import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from scipy import stats

from audit.append_only import AppendOnlyError
from monitoring import services as svc
from monitoring.models import DriftAlert, DriftAlertEvent, MonitoringWindow, ReferenceProfile
from notifications.models import Notification
from notifications.services import notification_send, notifications_about
from reviews.models import Finding
from tests.monitoring.monitoring_data import (
    NOW,
    configure,
    csv_bytes,
    reference_dataset,
    rows,
    send,
    validate_batches,
    without,
)

pytestmark = pytest.mark.django_db

START = NOW - dt.timedelta(days=28)  # Monday 2026-02-02 12:00


def compute(config, capture):
    with capture(execute=False) as callbacks:
        run = svc.monitoring_compute(config_id=config.pk, now=NOW)
    return run, callbacks


def stable_then_shift(config, by):
    send(config, by, rows(2800, seed=2, start=START, days=21), name="a.csv")
    send(
        config,
        by,
        rows(1400, seed=3, start=START + dt.timedelta(days=21), days=7, shift=1.0, id_start=9000),
        name="b.csv",
    )


def test_cadence_and_thresholds_come_from_the_obligations(config):
    # a High-tier use case owes medium production monitoring: weekly, PSI above 0.2
    assert config.cadence == "weekly"
    assert "production-monitoring obligation" in config.cadence_source
    assert config.thresholds["psi_max"] == 0.2
    assert "production-monitoring obligation" in config.thresholds_source
    # performance floors from the reference's own outcomes, minus the allowed drop
    floors = config.thresholds["performance_min"]
    assert set(floors) == {"accuracy", "precision", "recall", "roc_auc"}


def test_the_reference_profile_is_built_once_and_equals_scipy(config, world, data_scientist):
    _, version = world
    assert ReferenceProfile.objects.count() == 1
    configure(version, data_scientist, config.reference)  # same options: reused
    assert ReferenceProfile.objects.count() == 1
    profile = ReferenceProfile.objects.get()
    assert profile.rows == 4000 and not profile.error and profile.status == "ready"
    assert set(profile.summary["features"]) == {"age", "income", "region", "score"}
    assert list(profile.parts.values_list("name", flat=True)) == [
        "age",
        "income",
        "score",
        "region",
    ]


def test_configuration_refuses_unknown_columns_and_other_people(
    world, data_scientist, other_data_scientist, media
):
    _, version = world
    ref = reference_dataset(version, data_scientist)
    with pytest.raises(ValidationError) as err:
        configure(version, data_scientist, ref, numeric_features=["age", "salary"])
    assert "salary" in str(err.value.message_dict["numeric_features"])
    with pytest.raises(ValidationError):
        configure(version, data_scientist, ref, numeric_features=[], categorical_features=[])
    with pytest.raises(PermissionDenied):
        configure(version, other_data_scientist, ref)


def test_windows_show_the_injected_drift_and_equal_scipy(
    config, data_scientist, django_capture_on_commit_callbacks
):
    stable_then_shift(config, data_scientist)
    run, _ = compute(config, django_capture_on_commit_callbacks)
    assert run["windows"] == 4 and run["failed"] == 0
    windows = list(MonitoringWindow.objects.order_by("start"))
    assert [w.start.date().isoformat() for w in windows] == [
        "2026-02-02",
        "2026-02-09",
        "2026-02-16",
        "2026-02-23",
    ]
    assert all(w.status == "ok" for w in windows)
    assert [w.drifted for w in windows[:3]] == [[], [], []]
    assert "age" in windows[3].drifted
    # the KS statistic of the last window equals scipy's on the raw values
    ref = rows(4000, seed=1)["age"]
    stable = rows(2800, seed=2, start=START, days=21)
    shifted = rows(1400, seed=3, start=START + dt.timedelta(days=21), days=7, shift=1.0)
    w = windows[3]
    cur = [
        a
        for part in (stable, shifted)
        for a, t in zip(part["age"], part["ts"], strict=True)
        if w.start <= dt.datetime.fromisoformat(t) < w.end
    ]
    assert windows[3].rows == len(cur)
    r = windows[3].results["drift"]["features"]["age"]
    expected = stats.ks_2samp(ref, cur)
    assert r["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert r["ks_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_one_alert_per_feature_and_kind_one_finding_one_email(
    config, data_scientist, approver, django_capture_on_commit_callbacks
):
    stable_then_shift(config, data_scientist)
    _, callbacks = compute(config, django_capture_on_commit_callbacks)
    alerts = DriftAlert.objects.filter(config=config)
    kinds = {(a.feature, a.kind) for a in alerts}
    assert ("age", "input") in kinds and ("score", "prediction") in kinds
    assert alerts.count() == len(kinds)
    age = alerts.get(feature="age", kind="input")
    assert age.finding.source == Finding.Source.MONITORING and age.finding.status == "open"
    notes = notifications_about(age).filter(kind="drift_alert")
    assert [n.recipient for n in notes] == [approver]  # the monitoring Accountable
    assert len(callbacks) == alerts.count()  # one e-mail task per alert
    # a second run (same data) and a third (one more drifted week) open nothing new
    for _ in range(2):
        _, callbacks = compute(config, django_capture_on_commit_callbacks)
        assert callbacks == []
    send(
        config,
        data_scientist,
        rows(700, seed=4, start=NOW - dt.timedelta(hours=8), days=0.3, shift=1.0, id_start=20000),
        name="c.csv",
    )
    later = NOW + dt.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        svc.monitoring_compute(config_id=config.pk, now=later)
    assert callbacks == []
    age.refresh_from_db()
    assert age.breaches == 2 and age.status == "open"
    assert DriftAlert.objects.filter(config=config).count() == len(kinds)
    assert Notification.objects.filter(kind="drift_alert").count() == len(kinds)
    assert Finding.objects.filter(source="monitoring", status="open").count() == len(kinds)


def test_the_alert_email_is_sent_once(
    config, data_scientist, approver, django_capture_on_commit_callbacks, mailoutbox
):
    stable_then_shift(config, data_scientist)
    compute(config, django_capture_on_commit_callbacks)
    note = Notification.objects.filter(kind="drift_alert").first()
    assert notification_send(notification_id=note.pk) == "sent"
    assert notification_send(notification_id=note.pk) == "already sent or being sent"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [approver.email]
    assert "Monitoring alert" in mailoutbox[0].subject
    assert f"/reviews/versions/{config.model_version_id}/monitoring/" in mailoutbox[0].body


def test_acknowledge_and_resolve_keep_history_and_check_permissions(
    config, data_scientist, approver, risk_officer, auditor, django_capture_on_commit_callbacks
):
    stable_then_shift(config, data_scientist)
    compute(config, django_capture_on_commit_callbacks)
    alert = DriftAlert.objects.get(feature="age", kind="input")
    for outsider in (data_scientist, auditor):
        with pytest.raises(PermissionDenied):
            svc.drift_alert_acknowledge(alert=alert, by=outsider, reason="seen")
    with pytest.raises(ValidationError):
        svc.drift_alert_acknowledge(alert=alert, by=approver, reason="  ")
    svc.drift_alert_acknowledge(alert=alert, by=approver, reason="Campaign in the north")
    with pytest.raises(ValidationError):
        svc.drift_alert_acknowledge(alert=alert, by=approver, reason="again")
    svc.drift_alert_resolve(alert=alert, by=risk_officer, reason="Retrained on 2026 data")
    alert.refresh_from_db()
    assert alert.status == "resolved"
    events = list(alert.events.values_list("action", "by__username", "reason"))
    assert events == [
        ("opened", None, alert.message),
        ("acknowledged", "approver", "Campaign in the north"),
        ("resolved", "risk", "Retrained on 2026 data"),
    ]
    alert.finding.refresh_from_db()
    # The risk officer is not on the finding's owner's side: resolving the alert leaves
    # its finding to the owner to remediate (and someone else to verify).
    assert alert.finding.status == "open" and alert.finding.remediated_by is None
    with pytest.raises(AppendOnlyError):
        DriftAlertEvent.objects.filter(alert=alert).delete()
    # recomputing the same windows does not reopen what was resolved
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        svc.monitoring_compute(config_id=config.pk, now=NOW)
    assert not DriftAlert.objects.filter(feature="age", kind="input", status="open").exists()
    assert not [c for c in callbacks]


def test_outcomes_join_by_prediction_id_and_unknown_ids_are_recorded(
    config, data_scientist, django_capture_on_commit_callbacks
):
    data = rows(1400, seed=2, start=START, days=7)
    send(config, data_scientist, data)
    outcomes = {
        "id": data["id"][:1000] + ["nobody-1", "nobody-2"],
        "y": list(data["y"][:1000]) + [1, 0],
    }
    batch, created = send(config, data_scientist, outcomes, name="outcomes.csv", kind="outcomes")
    assert created and batch.matched_rows == 1000 and batch.rows == 1002
    assert "2 outcome(s) for unknown prediction ids" in batch.problems[0]
    unknown, _ = send(
        config, data_scientist, {"id": ["x", "y"], "y": [1, 0]}, name="o2.csv", kind="outcomes"
    )
    assert unknown.dataset.status == "rejected"
    assert "None of the 2 prediction ids" in unknown.dataset.error
    not_binary, _ = send(
        config, data_scientist, {"id": data["id"][:2], "y": [1, 2]}, name="o3.csv", kind="outcomes"
    )
    assert not_binary.dataset.status == "rejected"
    assert (not_binary.dataset.error_column, not_binary.dataset.error_row) == ("y", 2)
    compute(config, django_capture_on_commit_callbacks)
    window = MonitoringWindow.objects.get(start=dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    perf = window.results["performance"]
    assert perf["rows_with_outcome"] == 1000 == window.rows_with_outcome
    y = np.asarray(data["y"][:1000])
    yhat = np.asarray(data["y_hat"][:1000])
    assert perf["overall"]["accuracy"] == pytest.approx(float(np.mean(y == yhat)), abs=1e-12)
    assert set(perf["groups"]["sex"]) == {"F", "M"}


def test_bad_input_is_a_clear_result_never_a_crash(
    config, data_scientist, django_capture_on_commit_callbacks
):
    # timestamps without a time zone: rejected by the worker, nothing published
    naive = rows(50, seed=5, start=START)
    naive["ts"] = [t.replace("+00:00", "") for t in naive["ts"]]
    refused, _ = send(config, data_scientist, naive, name="naive.csv")
    assert refused.dataset.status == "rejected" and "time zone" in refused.dataset.error
    assert (refused.dataset.error_column, refused.dataset.error_row) == ("ts", 1)
    assert not refused.dataset.file
    # a future timestamp is recorded and left out of every window
    future = rows(100, seed=6, start=START, days=3)
    future["ts"][0] = (NOW + dt.timedelta(days=3)).isoformat()
    batch, _ = send(config, data_scientist, future, name="future.csv")
    assert batch.rejected_rows == 1 and "future" in " ".join(batch.problems)
    # a batch without a feature column, with an extra column, a constant and an all-missing one
    odd = without(rows(300, seed=7, start=START + dt.timedelta(days=7), days=6), "income")
    odd["channel"] = ["web"] * 300
    odd["age"] = [float("nan")] * 300
    odd["region"] = ["overseas"] * 300
    batch, _ = send(config, data_scientist, odd, name="odd.csv")
    assert "Missing feature column(s) 'income'" in batch.problems[0]
    assert "'channel'" in batch.problems[1]
    # no rows at all in the third week; a stored file whose timestamps cannot be read
    send(
        config,
        data_scientist,
        rows(100, seed=8, start=START + dt.timedelta(days=21), days=7),
        name="last.csv",
    )
    run, _ = compute(config, django_capture_on_commit_callbacks)
    assert run["windows"] == 4 and run["failed"] == 0
    w = {x.start.date().isoformat(): x for x in MonitoringWindow.objects.all()}
    assert w["2026-02-16"].status == "empty" and w["2026-02-16"].rows == 0
    second = w["2026-02-09"].results["drift"]["features"]
    assert second["income"]["status"] == "missing_in_window"
    assert second["age"]["status"] == "all_missing"
    assert second["channel"]["status"] == "not_in_reference"
    assert second["region"]["new_categories"] == ["overseas"]
    assert second["region"]["drift"] is True
    assert "future" in run["batch_problems"][0]["problem"]


def test_one_unreadable_batch_does_not_stop_the_others(
    config, data_scientist, django_capture_on_commit_callbacks, media
):
    send(config, data_scientist, rows(700, seed=2, start=START, days=7))
    bad, _ = send(config, data_scientist, rows(70, seed=9, start=START, days=7), name="bad.csv")
    # the stored bytes become unreadable (e.g. a storage fault): recorded, others computed
    path = media / bad.dataset.file.name
    path.write_bytes(b"ts,age\n" + b"not a date,1\n")
    run, _ = compute(config, django_capture_on_commit_callbacks)
    assert run["windows"] >= 1
    assert any(p["batch"] == bad.pk for p in run["batch_problems"])
    assert MonitoringWindow.objects.filter(status="ok").exists()


def test_json_rows_are_stored_as_parquet_and_the_same_bytes_twice_are_one_batch(
    config, data_scientist
):
    data = rows(20, seed=2, start=START, days=1)
    json_rows = [
        dict(zip(data, values, strict=True)) for values in zip(*data.values(), strict=True)
    ]
    for r in json_rows:
        r["age"], r["income"], r["score"] = float(r["age"]), float(r["income"]), float(r["score"])
        r["y_hat"], r["y"] = int(r["y_hat"]), int(r["y"])
    batch, created = svc.monitoring_batch_upload(
        config=config, by=data_scientist, rows=json_rows, now=NOW
    )
    validate_batches()
    batch.refresh_from_db()
    assert created and batch.dataset.format == "parquet" and batch.rows == 20
    again, created = svc.monitoring_batch_upload(
        config=config, by=data_scientist, rows=json_rows, now=NOW
    )
    assert not created and again.pk == batch.pk
    with pytest.raises(ValidationError):
        svc.monitoring_batch_upload(config=config, by=data_scientist, rows=[], now=NOW)
    with pytest.raises(PermissionDenied):
        svc.monitoring_batch_upload(
            config=config,
            by=None if False else config.model_version.model.use_case.business_owner,
            file=ContentFile(csv_bytes(data), name="x.csv"),
            now=NOW,
        )


def test_due_configs(config, data_scientist, django_capture_on_commit_callbacks):
    assert svc.monitoring_configs_due(now=NOW) == [config.pk]  # never computed
    compute(config, django_capture_on_commit_callbacks)
    assert svc.monitoring_configs_due(now=NOW) == []
    svc.monitoring_batch_upload(
        config=config,
        by=data_scientist,
        file=ContentFile(csv_bytes(rows(70, seed=2, start=START, days=7)), name="late.csv"),
        now=NOW + dt.timedelta(minutes=1),
    )
    # in quarantine, the batch makes nothing due; published, it does
    assert svc.monitoring_configs_due(now=NOW + dt.timedelta(minutes=2)) == []
    validate_batches()
    assert svc.monitoring_configs_due(now=NOW + dt.timedelta(minutes=2)) == [config.pk]
