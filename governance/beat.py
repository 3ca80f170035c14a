"""The scheduled passes that keep governance records moving (added to
``CELERY_BEAT_SCHEDULE`` by the settings). Each task is idempotent (the outbox's keys
make every e-mail once), so running it more often than daily only makes it timelier."""

HOUR = 60 * 60

DAILY_PASSES = {
    # Findings: expired acceptances re-open, overdue ones escalate.
    "findings-daily": {"task": "reviews.tasks.findings_daily", "schedule": HOUR},
    # Obligations overdue: the owner, then the model-acceptance Accountable.
    "escalate-overdue-obligations": {
        "task": "governance.tasks.obligations_escalate",
        "schedule": 6 * HOUR,
    },
    # New or changed obligations: each owner's digest, once a day from
    # OBLIGATION_DIGEST_HOUR (issue 18).
    "obligation-digests": {"task": "governance.tasks.obligation_digests_send", "schedule": HOUR},
    # Attestations and training (Step 7): reminders, escalation of the lapsed.
    "engagement-daily": {"task": "engagement.tasks.engagement_daily", "schedule": 6 * HOUR},
    # Step 8: today's governance snapshot (the first run of the day takes it, then KRIs).
    "kpi-snapshot": {"task": "oversight.tasks.snapshot_daily", "schedule": HOUR},
    # Step 8: the framework review due (leads e-mailed once).
    "framework-review": {"task": "oversight.tasks.review_due", "schedule": 24 * HOUR},
    # The query planner's statistics on the embedded database (SQLite; a no-op on
    # PostgreSQL, whose autovacuum keeps them).
    "database-statistics": {
        "task": "governance.tasks.database_statistics_refresh",
        "schedule": 24 * HOUR,
    },
    # MLflow registry sync (issue 17): queued when due (MLFLOW_SYNC_SECONDS), if configured.
    "mlflow-registry-sync": {"task": "mlflow_sync.tasks.registry_sync_scheduled", "schedule": 60},
}
