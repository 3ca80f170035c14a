"""Celery queues (settings, "Production topology"): long computations go to the heavy
queue, everything else to the light one; every queue a task can land on has a worker
in the production topology (scripts/prodrun.py) and in make run's single worker."""

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings

from fairness.tasks import _own_queue
from governance.celery import app

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
HEAVY = {
    "reviews.tasks.bias_summary_run",
    "reviews.tasks.bias_part_run",
    "reviews.tasks.monitoring_compute",
    "monitoring.tasks.reference_profile_build",
    "fairness.tasks.scored_dataset_validate",
    "monitoring.tasks.monitoring_batch_validate",
    "reviews.tasks.experiment_analyse",
    "documents.tasks.evidence_pack_build",
    "documents.tasks.document_render",
}


def load_script(name: str):
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location(f"{name}_under_test", SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


def product_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def consumed_queues(argv: list[str]) -> set[str]:
    return set(argv[argv.index("--queues") + 1].split(","))


def test_long_computations_go_to_the_heavy_queue_and_the_rest_to_the_light_one():
    tasks = product_tasks()
    assert set(tasks) >= HEAVY
    for name in tasks:
        assert queue_of(name) == ("heavy" if name in HEAVY else "light"), name
    # e-mail, obligations and the sweeps are light
    for name in (
        "reviews.tasks.notification_send",
        "governance.tasks.obligations_recompute",
        "notifications.tasks.jobs_sweep",
        "reviews.tasks.bias_summaries_resume",
        "reviews.tasks.monitoring_due",
        "reviews.tasks.experiments_check",
    ):
        assert queue_of(name) == "light"


def test_every_queue_has_a_worker_in_the_production_topology():
    prodrun = load_script("prodrun")
    argv = prodrun.commands("python", host="127.0.0.1", port=8000, processes=prodrun.PROCESSES)
    assert consumed_queues(argv["heavy"]) == {"heavy"}
    assert consumed_queues(argv["light"]) == {"light", "celery"}
    routed = {queue_of(name) for name in product_tasks()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert routed <= consumed_queues(argv["heavy"]) | consumed_queues(argv["light"])


def test_make_runs_single_worker_consumes_every_queue():
    """make run's worker has no --queues: it consumes CELERY_TASK_QUEUES, all of them."""
    worker = load_script("devrun").commands("python", "127.0.0.1", 8000)["worker"]
    assert "--queues" not in worker and "-Q" not in worker
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert declared == {"heavy", "light", "celery"}
    assert {queue_of(name) for name in product_tasks()} <= declared


def delivered_on(queue: str):
    return SimpleNamespace(request=SimpleNamespace(delivery_info={"routing_key": queue}))


def test_follow_ups_of_the_installation_queues_are_routed_by_name():
    """The stale-summary sweep runs on the light queue: the summaries it queues again
    must go to the heavy workers, not stay on the light queue."""
    for queue in ("light", "heavy", "celery"):
        assert _own_queue(delivered_on(queue)) is None
    assert _own_queue(SimpleNamespace(request=SimpleNamespace(delivery_info=None))) is None


def test_follow_ups_of_a_private_queue_stay_on_it():
    assert _own_queue(delivered_on("test-1a2b3c")) == "test-1a2b3c"
