"""Asking the database how it would run the SQL a piece of code really issues.

`recording()` wraps the connection with `execute_wrapper`, so it keeps the SQL with its
placeholders and the parameters exactly as the driver got them (`CaptureQueriesContext`
keeps display text, interpolated, that cannot be run again). `unindexed_scans()` then
EXPLAINs each recorded read of a watched table and returns the plan steps that read one of
those tables from end to end, with no index condition narrowing the rows:

- PostgreSQL: `EXPLAIN (FORMAT JSON)` under `PLANNER_SETTINGS`, which leave a bitmap scan
  as the only way to read a table that is not disabled; a bitmap scan always has an index
  condition. A disabled step costs more than any plan without one, so the planner takes a
  `Seq Scan`, or an `Index Scan` walking a whole index for its order (the models' default
  ordering, a LIMIT), only when no index condition can narrow the table: the question is
  "can an index serve this?" whatever the size of the test's tables.
- SQLite: `EXPLAIN QUERY PLAN` and a `SCAN <table>` step (the whole table, or a whole index
  for its order; `SEARCH` is an index condition). Without statistics (never ANALYZE the
  tables first) SQLite takes every table for a large one and narrows by any index it can,
  which asks the same question; with statistics a small table is scanned by choice."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from tinhso.dossiers.models import Dossier, DossierEvent

#: The tables whose reads must be served by an index (issue #8).
WATCHED_TABLES = frozenset({Dossier._meta.db_table, DossierEvent._meta.db_table})
#: While explaining on PostgreSQL. Joins are nested loops, so a joined table can be narrowed by
#: its join key (a hash or merge join reads it whole).
PLANNER_SETTINGS = {
    "enable_seqscan": "off",
    "enable_indexscan": "off",
    "enable_indexonlyscan": "off",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
}
#: The disabled ways of reading a table: in a plan, one means no bitmap scan was possible.
FULL_READS = frozenset({"Seq Scan", "Index Scan", "Index Only Scan"})
SQL_SHOWN = 700
PARAMS_SHOWN = 200


@dataclass(frozen=True)
class RecordedQuery:
    sql: str
    params: Any

    @property
    def is_read(self) -> bool:
        return self.sql.lstrip(" (\n").upper().startswith(("SELECT", "WITH"))

    def tables(self) -> set[str]:
        """The quoted names in the SQL (Django quotes every table and column it writes)."""
        return set(re.findall(r'"([A-Za-z0-9_]+)"', self.sql))

    def shown(self) -> str:
        text = " ".join(self.sql.split())
        if len(text) > SQL_SHOWN:
            text = text[:SQL_SHOWN] + " …"
        params = repr(self.params)
        if len(params) > PARAMS_SHOWN:
            params = params[:PARAMS_SHOWN] + " …"
        return f"{text}\n      params: {params}"


@dataclass(frozen=True)
class Scan:
    """A plan step reading a watched table from end to end."""

    query: RecordedQuery
    table: str
    step: str

    def __str__(self) -> str:
        return f"- {self.step}\n    in: {self.query.shown()}"


class _Recorder:
    def __init__(self) -> None:
        self.queries: list[RecordedQuery] = []

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if not many:
            self.queries.append(RecordedQuery(sql, params))
        return execute(sql, params, many, context)


@contextmanager
def recording(using: str = DEFAULT_DB_ALIAS) -> Iterator[list[RecordedQuery]]:
    """The queries run on the connection inside the block, as raw SQL and parameters."""
    recorder = _Recorder()
    with connections[using].execute_wrapper(recorder):
        yield recorder.queries


def watched_reads(
    queries: Iterable[RecordedQuery], tables: Iterable[str] = WATCHED_TABLES
) -> list[RecordedQuery]:
    """The reads among `queries` that touch one of `tables`, each distinct one once."""
    tables = set(tables)
    seen: set[tuple[str, str]] = set()
    found = []
    for query in queries:
        key = (query.sql, repr(query.params))
        if key in seen or not query.is_read or not query.tables() & tables:
            continue
        seen.add(key)
        found.append(query)
    return found


def unindexed_scans(
    queries: Iterable[RecordedQuery],
    tables: Iterable[str] = WATCHED_TABLES,
    using: str = DEFAULT_DB_ALIAS,
) -> list[Scan]:
    """The steps of the plans of `queries` that read one of `tables` with no index condition."""
    tables = frozenset(tables)
    connection = connections[using]
    if connection.vendor == "postgresql":
        explain = _postgresql_scans
    elif connection.vendor == "sqlite":
        explain = _sqlite_scans
    else:  # pragma: no cover - the project runs on these two
        raise NotImplementedError(connection.vendor)
    return [scan for query in queries for scan in explain(connection, query, tables)]


def report(scans: Iterable[Scan]) -> str:
    scans = list(scans)
    lines = [f"{len(scans)} plan step(s) read a table with no index condition:"]
    lines.extend(str(scan) for scan in scans)
    return "\n".join(lines)


# --- PostgreSQL -----------------------------------------------------------------------------


def postgresql_plan(connection: Any, query: RecordedQuery) -> dict[str, Any]:
    """The JSON plan of `query` under `PLANNER_SETTINGS`, in a savepoint: the settings are
    put back afterwards (or undone with the savepoint if EXPLAIN fails)."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        previous = {}
        for name, value in PLANNER_SETTINGS.items():
            cursor.execute("SELECT current_setting(%s)", [name])
            previous[name] = cursor.fetchone()[0]
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        cursor.execute("EXPLAIN (FORMAT JSON) " + query.sql, query.params)
        document = cursor.fetchone()[0]
        for name, value in previous.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    if isinstance(document, str | bytes):
        document = json.loads(document)
    return document[0]["Plan"]


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def describe(node: dict[str, Any]) -> str:
    """`Seq Scan on dossiers_dossier [Filter: …]`: the step as EXPLAIN shows it."""
    relation = node.get("Relation Name")
    text = node["Node Type"] + (f" on {relation}" if relation else "")
    if node.get("Alias") not in (None, relation):
        text += f" {node['Alias']}"
    for key in ("Index Name", "Index Cond", "Filter"):
        if key in node:
            text += f" [{key}: {node[key]}]"
    return text


def _postgresql_scans(connection: Any, query: RecordedQuery, tables: frozenset[str]) -> list[Scan]:
    return [
        Scan(query, node["Relation Name"], describe(node))
        for node in plan_nodes(postgresql_plan(connection, query))
        if node["Node Type"] in FULL_READS and node.get("Relation Name") in tables
    ]


# --- SQLite ---------------------------------------------------------------------------------

#: `FROM "table" U0`, `JOIN "table" T3`: the plan names a table by Django's alias for it.
_ALIASED = re.compile(r'"([A-Za-z0-9_]+)"\s+(?:AS\s+)?"?([A-Z][0-9]+)"?(?=[\s,)]|$)')


def sqlite_plan(connection: Any, query: RecordedQuery) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + query.sql, query.params)
        return [row[-1] for row in cursor.fetchall()]


def _sqlite_scans(connection: Any, query: RecordedQuery, tables: frozenset[str]) -> list[Scan]:
    names = {table: table for table in tables}
    names.update((alias, table) for table, alias in _ALIASED.findall(query.sql) if table in tables)
    scans = []
    for detail in sqlite_plan(connection, query):
        match = re.match(r"SCAN (\S+)", detail)
        if match and match.group(1) in names:
            scans.append(Scan(query, names[match.group(1)], f"SQLite: {detail}"))
    return scans
