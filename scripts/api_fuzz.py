"""Schemathesis ``--checks all`` against a running dashboard, once per demo role.

    python scripts/api_fuzz.py --url http://127.0.0.1:8000 [--max-examples 4]

Run with the same environment as the server (``DATABASE_URL`` etc.): it issues an API
token to each demo user (``seed_demo`` must have run), runs ``schemathesis run`` with
every check against ``/api/schema/`` as that user, and revokes the tokens. The
governance lead, who may do the most, also gets the coverage and stateful phases
(every documented status and boundary value, then chains of calls); the other roles get
the examples and fuzzing phases. Exit status 1 when any run found a failure.
Expected answers to schema-valid bodies that break a rule are in schemathesis.toml.

Issue 13. Only for a test database: the requests create, change and delete rows.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLES = (
    "governance.lead",
    "risk.officer",
    "data.scientist",
    "approver",
    "auditor",
    "model.validator",
)
# (ethics.lead, the second governance lead, has the same role as governance.lead.)
FULL_PHASES = "examples,coverage,fuzzing,stateful"
QUICK_PHASES = "examples,fuzzing"


def issue_tokens(roles) -> dict[str, tuple[object, str]]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User

    from accounts.services import api_token_create

    return {
        name: api_token_create(user=User.objects.get(username=name), name="api fuzz")
        for name in roles
    }


def revoke(tokens) -> None:
    from accounts.services import api_token_revoke

    for token, _ in tokens.values():
        api_token_revoke(token=token, reason="API fuzzing finished.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--max-examples", type=int, default=4, help="per operation and phase")
    parser.add_argument("--workers", default="2")
    parser.add_argument("--seed", default="13")
    parser.add_argument("--report-dir", default="", help="JUnit reports written here")
    parser.add_argument("--roles", default=",".join(ROLES), help="demo users, comma-separated")
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("schemathesis")
    tokens = issue_tokens(args.roles.split(","))
    failed = []
    try:
        for role, (_, secret) in tokens.items():
            phases = FULL_PHASES if role == ROLES[0] else QUICK_PHASES
            command = [
                str(exe),
                "run",
                args.url.rstrip("/") + "/api/schema/",
                "--header",
                f"Authorization: Token {secret}",
                "--checks",
                "all",
                "--phases",
                phases,
                "--max-examples",
                str(args.max_examples),
                "--workers",
                args.workers,
                "--seed",
                args.seed,
                "--no-color",
                # A request that hangs is a failure, not a stalled CI run.
                "--request-timeout",
                "60",
            ]
            if args.report_dir:
                command += ["--report", "junit", "--report-dir", f"{args.report_dir}/{role}"]
            print(f"==> schemathesis as {role} ({phases})", flush=True)
            started = time.monotonic()
            result = subprocess.run(command, cwd=ROOT, check=False)  # noqa: S603 (our argv)
            print(f"==> {role}: exit {result.returncode} in {time.monotonic() - started:.0f} s")
            if result.returncode != 0:
                failed.append(role)
    finally:
        revoke(tokens)
    if failed:
        print(f"api fuzz: failures as {', '.join(failed)}", file=sys.stderr)
        return 1
    print("api fuzz: no failure for any role")
    return 0


if __name__ == "__main__":
    sys.exit(main())
