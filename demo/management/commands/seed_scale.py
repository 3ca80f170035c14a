"""``manage.py seed_scale --use-cases N [--seed S]``: a portfolio of N use cases for
measuring pages at scale (issue 18). What goes through the services and what is written
in bulk is said in ``demo.scale``."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo import scale
from governance.services.db_statistics import database_statistics_refresh
from notifications.models import JobMarker


class Command(BaseCommand):
    help = (
        "Load a portfolio of N use cases (copies of the demo's profiles at seeded random "
        "stages) for benchmarks. Through the services: the demo's people, teams and "
        "datasets, one classification (and confirmation) per profile, about one pending "
        "request to production per 200 use cases. In bulk (no signal, no task queued): "
        "use cases, models, versions, RACI assignments, the copies of the classifications, "
        "obligations (the same rules as obligations_recompute), approved requests with "
        "their signatures, periodic reviews, and one chained audit event per row. "
        "Resumable: use cases already loaded are kept and the count is topped up to N."
    )

    def add_arguments(self, parser):
        parser.add_argument("--use-cases", type=int, required=True, help="N, the portfolio size")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="load although DJANGO_DEBUG is false (a throw-away benchmark site only)",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "Refusing to load the scale portfolio: DJANGO_DEBUG is false (production "
                "settings). It creates the demo users with their public password. On a "
                "throw-away site only, pass --allow-production."
            )
        n = options["use_cases"]
        if n < 1:
            raise CommandError("--use-cases must be at least 1.")
        jobs_before = JobMarker.objects.count()
        started = time.perf_counter()
        counts = scale.load(n=n, seed=options["seed"], say=self.stdout.write)
        elapsed = time.perf_counter() - started
        if not counts:
            self.stdout.write(f"The scale portfolio already has {n} use cases or more.")
            return
        for kind, count in sorted(counts.items()):
            self.stdout.write(f"  {count:>8,} {kind}")
        queued = JobMarker.objects.count() - jobs_before
        database_statistics_refresh()  # the planner's statistics, as beat keeps them daily
        self.stdout.write(
            f"Scale portfolio: {scale.scale_use_cases().count():,} use cases in "
            f"{elapsed:.1f} s; {queued} background jobs queued."
        )
