"""``manage.py db_roles``: the application role's privileges on PostgreSQL (issue 13).

Prints the GRANT/REVOKE statements that give the application role only what it needs
(``audit.db_roles``); ``--apply`` runs them, as the owner (``DATABASE_OWNER_URL``, or
the connection's own role when it is not set). ``migrate`` applies them by itself when
``DATABASE_APP_ROLE`` is known; run this after creating the role, or to see them.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from audit.db_guard import install_guards
from audit.db_roles import apply_grants, as_owner, grant_statements, role_problems


class Command(BaseCommand):
    help = "Print (or --apply) the least privileges of the application's database role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--app-role",
            default=getattr(settings, "DATABASE_APP_ROLE", ""),
            help="The application's role (default: DATABASE_APP_ROLE, the user of "
            "DATABASE_URL when DATABASE_OWNER_URL is set).",
        )
        parser.add_argument("--apply", action="store_true", help="Run the statements.")
        parser.add_argument("--database", default="default")

    def handle(self, *args, app_role: str, apply: bool, database: str, **options):
        if not app_role:
            raise CommandError("Name the application role: --app-role NAME.")
        with as_owner(database):
            connection = connections[database]
            if connection.vendor != "postgresql":
                raise CommandError("Database roles exist on PostgreSQL only.")
            problems = role_problems(connection=connection, app_role=app_role)
            if not apply:
                for statement in grant_statements(connection=connection, app_role=app_role):
                    self.stdout.write(f"{statement};")
                for problem in problems:
                    self.stderr.write(f"-- warning: {problem}")
                return
            if problems:
                raise CommandError("Not applied: " + "; ".join(problems))
            guarded = install_guards(connection)
            statements = apply_grants(connection=connection, app_role=app_role)
        self.stdout.write(
            f"Applied {len(statements)} statements: {app_role} has SELECT and INSERT only on "
            f"the {len(guarded)} append-only tables."
        )
