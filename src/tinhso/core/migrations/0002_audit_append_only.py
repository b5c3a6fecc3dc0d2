"""The database itself refuses to change audit records (and, on PostgreSQL, to delete them)."""

from django.db import migrations

from tinhso.core.append_only import migration_functions

forward, backward = migration_functions("core_auditrecord")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
