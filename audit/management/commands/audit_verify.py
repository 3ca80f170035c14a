"""``manage.py audit_verify``: check the audit trail's hash chain from seq 1 to the
newest event, in batches (memory stays flat whatever the length of the trail), and
against every anchor of the anchor log (``AUDIT_ANCHOR_LOG``, written daily outside
the database by ``audit_anchor``): each anchor's MAC must verify with the anchor key,
its seq must still have its hash, and the chain must reach the newest one. So deleting
the newest events, or re-hashing the chain from some row onward, is caught.

Exit 0 and "OK: ..." when the chain holds; exit 1 naming the first altered, missing or
unlinked row, or the anchor it no longer matches. ``--anchor SEQ:HASH`` also checks a
head recorded some other way; ``--anchor-log PATH`` reads another copy of the log (e.g.
the e-mailed one); ``--no-anchor-log`` checks the chain alone.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.anchors import anchor_log_path, anchors_read
from audit.verification import TrailBroken, trail_verify
from core.audit_anchor import AnchorError


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and its anchors; name the first break."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--anchor",
            metavar="SEQ:HASH",
            help="A head recorded earlier: the event at SEQ must still have HASH.",
        )
        parser.add_argument("--anchor-log", metavar="PATH", help="Default: AUDIT_ANCHOR_LOG.")
        parser.add_argument(
            "--no-anchor-log", action="store_true", help="Do not check the anchor log."
        )

    def handle(self, *args, batch_size: int, anchor: str | None, **options):
        anchors = {} if options["no_anchor_log"] else self._logged(options["anchor_log"])
        latest = max(anchors.values(), key=lambda a: a.seq) if anchors else None
        expected = {seq: a.hash for seq, a in anchors.items()}
        extra_seq, extra_hash = self._parse_anchor(anchor)
        if extra_seq is not None:
            if expected.get(extra_seq, extra_hash) != extra_hash:
                raise CommandError(
                    f"The anchor given disagrees with the anchor log at seq {extra_seq}.",
                    returncode=1,
                )
            expected[extra_seq] = extra_hash
        try:
            report = trail_verify(anchors=expected, batch_size=batch_size)
        except TrailBroken as exc:
            raise CommandError(str(exc), returncode=1) from exc
        self.stdout.write(
            f"OK: {report.count} events, chain intact up to seq {report.last_seq}, "
            f"head hash {report.head_hash}"
        )
        if latest is not None:
            self.stdout.write(
                f"Anchors: {len(anchors)} checked; the latest, of seq {latest.seq} at "
                f"{latest.at}, matches."
            )

    def _logged(self, path: str | None) -> dict:
        log = Path(path) if path else anchor_log_path()
        try:
            anchors = anchors_read(log)
        except AnchorError as exc:
            raise CommandError(f"Anchor log {log}: {exc}", returncode=1) from exc
        if not anchors:
            self.stderr.write(
                f"No anchor recorded yet in {log}: the newest events are checked by the "
                "chain alone (manage.py audit_anchor records one)."
            )
        return anchors

    @staticmethod
    def _parse_anchor(anchor: str | None) -> tuple[int | None, str | None]:
        if not anchor:
            return None, None
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise CommandError("Give the anchor as SEQ:HASH (a number and 64 hex digits).")
        return int(seq), digest.lower()
