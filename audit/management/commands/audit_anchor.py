"""``manage.py audit_anchor``: check the audit trail and anchor its head now (beat does
it daily): one line appended to the anchor log outside the database
(``AUDIT_ANCHOR_LOG``), with an HMAC made with a key that is not in the database.
Exit 1, anchoring nothing, when the chain does not hold or no longer matches an anchor.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.anchors import anchor_log_path, audit_anchor_record
from audit.verification import TrailBroken
from core.audit_anchor import AnchorError


class Command(BaseCommand):
    help = "Check the audit trail, then anchor its head in the anchor log."

    def handle(self, *args, **options):
        try:
            anchor, report = audit_anchor_record()
        except (TrailBroken, AnchorError) as exc:
            raise CommandError(f"Not anchored: {exc}", returncode=1) from exc
        if anchor is None:
            self.stdout.write("The audit trail is empty: nothing to anchor.")
            return
        self.stdout.write(
            f"Anchored seq {anchor.seq} (hash {anchor.hash}) in {anchor_log_path()}; "
            f"{report.count} events checked."
        )
        self.stdout.write(anchor.line())
