"""The database itself refuses to change the log of gateway notifications."""

from django.db import migrations

from tinhso.core.append_only import migration_functions

forward, backward = migration_functions("payments_gatewaynotification")


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
