"""Production monitoring (issue #6): configure a version's monitoring, receive production
batches and outcomes, build the reference profile once, compute drift and performance
per time window, open alerts (one per feature and kind while open) with a finding and
one e-mail to the monitoring Accountable, and acknowledge or resolve them.

Scored data is stored and validated the one way issue #5 built: every file is a
``ScoredDataset`` (content-addressed in Django storage, SHA-256, size, format), checked
by ``core.scored_io.inspect_file``; ``MonitoringBatch`` says what a file is for.

Bad data never stops a run: a batch that cannot be read, timestamps without a zone or
in the future, a window with no rows, a missing or unusable column each become a
recorded result with a readable message; one failed window does not stop the others.
Recomputing is idempotent (windows are unique per config, start and cadence; alerts
remember the windows they counted).

One module per operation; callers import from here (``monitoring.services``):

- ``policy``: who configures and handles alerts, cadence and thresholds from the policy;
- ``configuration``: saving a configuration (checked by ``core.monitoring_config``);
- ``profiles``: the reference profile, built once per dataset and columns by a worker;
- ``batches``: receiving production batches and outcomes;
- ``windows``: computing the windows;
- ``alerts``: opening, counting, acknowledging and resolving alerts;
- ``emails``: the alert e-mails (queued, rendered for the shared outbox);
- ``scheduling``: recompute on demand, configurations due on the schedule;
- ``files``: reading stored files (shared by the others).

A test that patches a name here (``mock.patch("monitoring.services.X")``) changes only
this package's attribute: patch it in the module that uses it.
"""

from monitoring.services.alerts import drift_alert_acknowledge, drift_alert_resolve
from monitoring.services.batches import monitoring_batch_upload
from monitoring.services.configuration import monitoring_config_save
from monitoring.services.emails import (
    monitoring_url,
    notify_alert,
    render_notification,
)
from monitoring.services.policy import (
    CLAIM_TIMEOUT,
    DEFAULT_CADENCE,
    DEFAULT_PERFORMANCE_MAX_DROP,
    DEFAULT_PERFORMANCE_MIN_ROWS,
    MONITORING_CONSIDERATION,
    PERFORMANCE_METRICS,
    can_configure,
    can_handle_alert,
    monitoring_policy,
)
from monitoring.services.profiles import (
    _profile_options,
    performance_floors_set,
    profile_fingerprint,
    reference_profile_build,
    reference_profile_given_up,
    reference_profile_load,
    reference_profile_of,
    reference_profile_request,
)
from monitoring.services.scheduling import monitoring_configs_due, monitoring_recompute_request
from monitoring.services.windows import monitoring_compute

__all__ = [
    "CLAIM_TIMEOUT",
    "DEFAULT_CADENCE",
    "DEFAULT_PERFORMANCE_MAX_DROP",
    "DEFAULT_PERFORMANCE_MIN_ROWS",
    "MONITORING_CONSIDERATION",
    "PERFORMANCE_METRICS",
    "_profile_options",
    "can_configure",
    "can_handle_alert",
    "drift_alert_acknowledge",
    "drift_alert_resolve",
    "monitoring_batch_upload",
    "monitoring_compute",
    "monitoring_config_save",
    "monitoring_configs_due",
    "monitoring_policy",
    "monitoring_recompute_request",
    "monitoring_url",
    "notify_alert",
    "performance_floors_set",
    "profile_fingerprint",
    "reference_profile_build",
    "reference_profile_given_up",
    "reference_profile_load",
    "reference_profile_of",
    "reference_profile_request",
    "render_notification",
]
