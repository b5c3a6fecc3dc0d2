"""The database itself refuses to change audit records (and, on PostgreSQL, to delete them).

SQLite keeps the DELETE guard in the application only: its test runner empties tables with
DELETE, which a trigger would stop; PostgreSQL empties them with TRUNCATE, which it allows."""

from django.db import migrations

SQLITE_FORWARD = [
    """
    CREATE TRIGGER core_auditrecord_no_update BEFORE UPDATE ON core_auditrecord
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
    """,
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS core_auditrecord_no_update;"]

POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION core_auditrecord_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit records are append-only' USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER core_auditrecord_no_change BEFORE UPDATE OR DELETE ON core_auditrecord
    FOR EACH ROW EXECUTE FUNCTION core_auditrecord_append_only();
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS core_auditrecord_no_change ON core_auditrecord;",
    "DROP FUNCTION IF EXISTS core_auditrecord_append_only();",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
