"""Fills the agency rollups (issue #8) from the daily rollups: one INSERT … SELECT … GROUP BY
(day, agency, channel), set-based on PostgreSQL and SQLite alike. The SQL is written out here
rather than imported so that this migration keeps doing what it did when the code moves on."""

from django.db import migrations

COUNTERS = (
    "submitted",
    "received",
    "refused",
    "done",
    "done_early",
    "done_on_time",
    "done_late",
    "done_approved",
    "done_rejected",
    "processing_seconds",
    "withdrawn",
    "withdrawn_received",
    "withdrawn_on_time",
    "ended_with_supplement",
    "inputs_digitised",
    "result_digitised",
    "fully_digitised",
    "reused",
    "data_store",
)
GRAIN = ("day", "agency_id", "channel")


def backfill(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    grain = ", ".join(quote(c) for c in GRAIN)
    counters = ", ".join(quote(c) for c in COUNTERS)
    sums = ", ".join(f"SUM({quote(c)})" for c in COUNTERS)
    schema_editor.execute(f"DELETE FROM {quote('ioc_agencydailyrollup')}")
    schema_editor.execute(
        f"INSERT INTO {quote('ioc_agencydailyrollup')} ({grain}, {counters}) "
        f"SELECT {grain}, {sums} FROM {quote('ioc_dailyrollup')} GROUP BY {grain}"
    )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ANALYZE {quote('ioc_agencydailyrollup')}")


def empty(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    schema_editor.execute(f"DELETE FROM {quote('ioc_agencydailyrollup')}")


class Migration(migrations.Migration):
    dependencies = [("ioc", "0006_agency_daily_rollup")]

    operations = [migrations.RunPython(backfill, empty)]
