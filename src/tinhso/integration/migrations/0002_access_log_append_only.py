"""Reads of a person's data are logged append-only: the database refuses to change them."""

from django.db import migrations

from tinhso.core.append_only import migration_functions

forward, backward = migration_functions("integration_personaldataaccess")


class Migration(migrations.Migration):
    dependencies = [("integration", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
