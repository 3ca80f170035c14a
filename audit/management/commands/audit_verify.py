"""``manage.py audit_verify``: check the audit trail's hash chain from seq 1 to the
newest event, in batches (memory stays flat whatever the length of the trail).

Exit 0 and "OK: ..." when the chain holds; exit 1 naming the first altered, missing
or unlinked row otherwise. ``--anchor SEQ:HASH`` also checks a head hash recorded
earlier (e.g. printed by a previous run and kept outside the database): it catches a
chain whose whole tail was rewritten or cut off.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.models import HASHED_FIELDS, AuditEvent
from core.audit_chain import ChainRow, ChainVerifier


def _rows(batch_size: int):
    last_seq = 0
    fields = ["id", "prev_hash", "hash", *HASHED_FIELDS]
    while True:
        batch = list(
            AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq").values(*fields)[:batch_size]
        )
        if not batch:
            return
        for row in batch:
            payload = {name: row[name] for name in HASHED_FIELDS}
            yield ChainRow(row["seq"], row["id"], row["prev_hash"], row["hash"], payload)
        last_seq = batch[-1]["seq"]


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; name the first altered or missing row."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--anchor",
            metavar="SEQ:HASH",
            help="A head recorded earlier: the event at SEQ must still have HASH.",
        )

    def handle(self, *args, batch_size: int, anchor: str | None, **options):
        anchor_seq, anchor_hash = self._parse_anchor(anchor)
        verifier = ChainVerifier()
        anchor_seen = False
        for row in _rows(max(1, batch_size)):
            broken = verifier.feed(row)
            if broken is not None:
                raise CommandError(
                    f"Audit trail broken at {broken} ({verifier.count} events intact before it).",
                    returncode=1,
                )
            if anchor_seq is not None and row.seq == anchor_seq:
                anchor_seen = True
                if row.hash != anchor_hash:
                    raise CommandError(
                        f"Audit trail does not match the anchor: seq {row.seq} (id "
                        f"{row.row_id}) has hash {row.hash}, the anchor says {anchor_hash}.",
                        returncode=1,
                    )
        if anchor_seq is not None and not anchor_seen:
            raise CommandError(
                f"Audit trail does not reach the anchor: seq {anchor_seq} is missing "
                f"(the chain ends at seq {verifier.last_seq}).",
                returncode=1,
            )
        self.stdout.write(
            f"OK: {verifier.count} events, chain intact up to seq {verifier.last_seq}, "
            f"head hash {verifier.head_hash}"
        )

    @staticmethod
    def _parse_anchor(anchor: str | None) -> tuple[int | None, str | None]:
        if not anchor:
            return None, None
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise CommandError("Give the anchor as SEQ:HASH (a number and 64 hex digits).")
        return int(seq), digest.lower()
