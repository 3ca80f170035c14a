"""``manage.py mlflow_sync [--model NAME] [--user USERNAME]``: import the MLflow
registry into the inventory now, in this process (issue 17)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mlflow_sync.models import SyncRun
from mlflow_sync.services import registry_sync, sync_user


class Command(BaseCommand):
    help = "Import MLflow's registered models and versions into the inventory (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--model", default="", help="Only this registered model.")
        parser.add_argument(
            "--user", default="", help="Register as this user (default: MLFLOW_SYNC_USERNAME)."
        )

    def handle(self, *args, model: str, user: str, **options):
        try:
            by = (
                get_user_model().objects.get(username=user, is_active=True) if user else sync_user()
            )
            run = registry_sync(by=by, trigger=SyncRun.Trigger.COMMAND, registered_model=model)
        except get_user_model().DoesNotExist as err:
            raise CommandError(f"No active user {user!r}.") from err
        except ValidationError as err:
            raise CommandError("; ".join(err.messages)) from err
        self.stdout.write(
            f"{run.get_status_display()}: {run.imported} imported, {run.updated} updated, "
            f"{run.unchanged} unchanged, {len(run.skipped)} not imported"
        )
        for item in run.skipped:
            self.stdout.write(f"  {item['model']} v{item['version']}: {item['reason']}")
        if run.status == SyncRun.Status.FAILED:
            raise CommandError(run.message)
