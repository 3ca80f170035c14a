"""Issue 18: ``manage.py seed_scale`` builds N use cases without queueing a task per
use case, tops an existing portfolio up, and refuses production settings (nothing
written)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from demo.scale import scale_use_cases
from inventory.models import UseCase
from notifications.models import JobMarker

pytestmark = pytest.mark.django_db

RECOMPUTE = "governance.tasks.obligations_recompute"


def seed(n: int) -> str:
    out = StringIO()
    call_command("seed_scale", use_cases=n, stdout=out)
    return out.getvalue()


def test_one_recompute_per_profile_not_per_use_case():
    # The package's demo portfolio may be loaded by an earlier test, with its markers.
    before = list(JobMarker.objects.values_list("pk", flat=True))
    output = seed(30)
    assert scale_use_cases().count() == 30
    through_service = int(output.split(" classified through the service")[0].split()[-1])
    assert 0 < through_service < 30
    # Only the use cases classified through the service queued a recompute; the copies
    # were written in bulk with their obligations, and queued nothing.
    queued = JobMarker.objects.exclude(pk__in=before).filter(task=RECOMPUTE)
    assert queued.count() == through_service
    assert set(queued.values_list("key", flat=True)) <= {
        str(pk) for pk in scale_use_cases().values_list("pk", flat=True)
    }
    classified = scale_use_cases().filter(risk_tier__isnull=False)
    assert classified.count() > through_service
    assert all(u.obligations.filter(active=True).exists() for u in classified)


def test_a_second_run_tops_up_and_a_third_changes_nothing():
    seed(3)
    seed(5)
    assert scale_use_cases().count() == 5
    before = UseCase.objects.count()
    assert "already has 5 use cases" in seed(5)
    assert UseCase.objects.count() == before


def test_production_settings_are_refused_and_nothing_is_written(settings):
    settings.PRODUCTION = True
    before = UseCase.objects.count()
    with pytest.raises(CommandError, match="DJANGO_DEBUG is false"):
        seed(3)
    assert UseCase.objects.count() == before
