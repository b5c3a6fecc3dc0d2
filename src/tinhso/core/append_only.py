"""Database guards for append-only tables (the audit trail, dossier events).

Both SQLite and PostgreSQL refuse UPDATE; PostgreSQL also refuses DELETE. SQLite keeps the
DELETE guard in the application only, because its test runner empties tables with DELETE
(PostgreSQL's uses TRUNCATE, which the row trigger does not see)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def forward_sql(table: str, vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
        ]
    if vendor == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only' "
            f"USING ERRCODE = 'insufficient_privilege'; END; $$ LANGUAGE plpgsql;",
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only();",
        ]
    return []


def backward_sql(table: str, vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_update;"]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};",
            f"DROP FUNCTION IF EXISTS {table}_append_only();",
        ]
    return []


def migration_functions(table: str) -> tuple[Callable[..., None], Callable[..., None]]:
    """The forward and backward functions of a `RunPython` that guards `table`."""

    def forward(apps: Any, schema_editor: Any) -> None:
        for sql in forward_sql(table, schema_editor.connection.vendor):
            schema_editor.execute(sql)

    def backward(apps: Any, schema_editor: Any) -> None:
        for sql in backward_sql(table, schema_editor.connection.vendor):
            schema_editor.execute(sql)

    return forward, backward
