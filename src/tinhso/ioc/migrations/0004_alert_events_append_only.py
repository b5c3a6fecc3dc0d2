"""An alert's events are its trail: the database refuses to change them."""

from django.db import migrations

from tinhso.core.append_only import migration_functions

forward, backward = migration_functions("ioc_alertevent")


class Migration(migrations.Migration):
    dependencies = [("ioc", "0003_alerts")]

    operations = [migrations.RunPython(forward, backward)]
