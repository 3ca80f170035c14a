"""``manage.py media_sweep [--dry-run]``: remove the stored files no record refers to
(an upload whose web process was killed between storing the file and committing its
row), once older than ``MEDIA_SWEEP_GRACE_MINUTES``; beat runs it hourly. Each removal
is audited (``media.orphans_removed``, naming the files). ``--dry-run`` lists them and
changes nothing. How it cannot remove a file an upload is about to commit:
``audit/stored_files.py``.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from audit.stored_files import grace, media_sweep


class Command(BaseCommand):
    help = "Remove stored files no record refers to (older than the grace period); audited."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List the orphan files; remove nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        report = media_sweep(dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        for c in report.removed:
            size = "?" if c.size is None else f"{c.size:,}"
            when = c.modified.astimezone(dt.UTC)
            self.stdout.write(f"{verb} {c.name} ({size} bytes, modified {when:%Y-%m-%d %H:%M} UTC)")
        minutes = grace().total_seconds() / 60
        self.stdout.write(
            f"{verb} {len(report.removed)} orphan file(s); kept {report.referenced} a record "
            f"names and {report.young} younger than {minutes:g} min."
        )
        if report.failed:
            raise CommandError(
                f"Could not delete {len(report.failed)} file(s): {', '.join(report.failed)}",
                returncode=1,
            )
