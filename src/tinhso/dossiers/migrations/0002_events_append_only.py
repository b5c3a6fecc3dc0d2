"""Dossier events are the dossier's audit trail: the database refuses to change them."""

from django.db import migrations

from tinhso.core.append_only import migration_functions

forward, backward = migration_functions("dossiers_dossierevent")


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
