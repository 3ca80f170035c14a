"""Django for a benchmark script: a scratch database (a SQLite file in bench/out unless
DATABASE_URL names PostgreSQL), migrated, with the demo portfolio loaded once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def django_setup(
    *, db_name: str, db_path: str = "", media: Path | None = None, seed: bool = True
) -> None:
    """Point Django at the scratch database and set it up; with ``seed``, migrate it and
    load the demo portfolio when it is not there yet."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        db = Path(db_path or OUT / f"{db_name}.sqlite3")
        db.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db.resolve()}"
    if media is not None:
        os.environ["DJANGO_MEDIA_ROOT"] = str(media)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    hosts = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
    os.environ["DJANGO_ALLOWED_HOSTS"] = hosts + ",testserver"
    import django

    django.setup()
    if not seed:
        return
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not User.objects.filter(username="risk.officer").exists():
        call_command("seed_demo", verbosity=0)
