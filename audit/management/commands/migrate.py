"""``manage.py migrate`` as the database owner (issue 13): with ``DATABASE_OWNER_URL``
set, the migrations run with the owner's credentials while the application keeps its
own role (``DATABASE_URL``); afterwards ``post_migrate`` guards the append-only tables
and gives the application role its privileges again (``audit.db_guard``)."""

from django.core.management.commands.migrate import Command as MigrateCommand

from audit.db_roles import as_owner


class Command(MigrateCommand):
    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
