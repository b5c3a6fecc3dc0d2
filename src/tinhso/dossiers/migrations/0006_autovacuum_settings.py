"""PostgreSQL only: vacuum the dossier and event tables after 1-2 % of their rows change
instead of the default 20 %, so their visibility maps stay current and the inbox and dashboard
counts stay index-only scans on a busy province (docs/benchmarks.md, "Scale, third round")."""

from django.db import migrations

#: Storage parameters per table: the open dossiers are the rows being updated; events are
#: only inserted (PostgreSQL 13+ vacuums after inserts too, which sets the visibility map).
SETTINGS = {
    "dossiers_dossier": {
        "autovacuum_vacuum_scale_factor": "0.01",
        "autovacuum_vacuum_insert_scale_factor": "0.01",
        "autovacuum_analyze_scale_factor": "0.02",
    },
    "dossiers_dossierevent": {
        "autovacuum_vacuum_insert_scale_factor": "0.02",
        "autovacuum_analyze_scale_factor": "0.02",
    },
}


def set_storage(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, params in SETTINGS.items():
        options = ", ".join(f"{name} = {value}" for name, value in params.items())
        schema_editor.execute(f"ALTER TABLE {table} SET ({options})")


def reset_storage(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, params in SETTINGS.items():
        schema_editor.execute(f"ALTER TABLE {table} RESET ({', '.join(params)})")


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0005_sent_back"),
    ]

    operations = [migrations.RunPython(set_storage, reset_storage)]
