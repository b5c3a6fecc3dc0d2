"""Daily rollups of the dossier events: additive counters kept up to date in the transaction
of every event, so the indicators sum a few rows instead of scanning the dossier table.

The delta of an event is a pure function (`event_delta`) of the event and of facts of its
dossier that can no longer change when the event is written:
- the receiving agency, procedure and channel never change;
- every other fact read (timeliness, outcome, processing time, handling department and
  official, supplement count, documents, owner) is read only for the dossier's terminal
  events (result returned, refused, withdrawn), after which no transition touches it.
So `rollups_rebuild` replaying the event log computes exactly the rows the hook wrote — a
property test holds the two together."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction

from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument, DossierEvent
from tinhso.dossiers.states import Action, Outcome, Timeliness
from tinhso.ioc import closed_days
from tinhso.ioc.models import AGENCY_GRAIN, COUNTERS, GRAIN, AgencyDailyRollup, DailyRollup
from tinhso.ioc.periods import local_day, local_tz

#: The actions whose events change a counter; every other event leaves the rollups alone.
COUNTED_ACTIONS = frozenset(
    {Action.SUBMIT, Action.RECEIVE, Action.REFUSE, Action.RETURN_RESULT, Action.WITHDRAW}
)
#: The dossier's last event: after it nothing changes, so its final facts are safe to read.
TERMINAL_ACTIONS = frozenset({Action.REFUSE, Action.RETURN_RESULT, Action.WITHDRAW})

Key = tuple[date, int, int, int, int, str]
Delta = dict[str, int]


@dataclass(frozen=True)
class DocumentFacts:
    """What the digitisation counters need of a finished dossier's documents."""

    inputs: int = 0
    inputs_digitised: int = 0
    inputs_reused: int = 0
    inputs_from_store: int = 0
    results_digitised: int = 0

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, bool, bool, int | None]]) -> DocumentFacts:
        """From (kind, is_digitised, is_reused, reused_from_id) rows; slips are ignored."""
        inputs = digitised = reused = from_store = results = 0
        for kind, is_digitised, is_reused, reused_from_id in rows:
            if kind == DocumentKind.INPUT:
                inputs += 1
                digitised += bool(is_digitised)
                reused += bool(is_reused)
                from_store += reused_from_id is not None
            elif kind == DocumentKind.RESULT and is_digitised:
                results += 1
        return cls(inputs, digitised, reused, from_store, results)


@dataclass(frozen=True)
class EventFacts:
    """An event and the facts of its dossier that its delta may read (see the module's
    docstring for why they are stable)."""

    action: str
    day: date
    agency_id: int
    procedure_id: int
    channel: str
    # Read for terminal events only:
    department_id: int | None = None
    official_id: int | None = None
    timeliness: str = ""
    outcome: str = ""
    consumed_seconds: int = 0
    was_received: bool = False
    supplement_count: int = 0
    has_owner: bool = False
    documents: DocumentFacts | None = None


def event_delta(facts: EventFacts) -> tuple[Key, Delta] | None:
    """The row an event adds to and what it adds; None for events that count nothing.

    Reception-side counters (submitted, received, refused) are not attributed to a
    department or official (0): the desk takes dossiers in before anyone handles them.
    Outcome counters go to the department and official holding the dossier at its end."""
    if facts.action not in COUNTED_ACTIONS:
        return None
    delta: Delta = {}
    department = official = 0
    if facts.action == Action.SUBMIT:
        delta["submitted"] = 1
    elif facts.action == Action.RECEIVE:
        delta["received"] = 1
    elif facts.action == Action.REFUSE:
        delta["refused"] = 1
    elif facts.action == Action.RETURN_RESULT:
        department, official = facts.department_id or 0, facts.official_id or 0
        delta["done"] = 1
        if facts.timeliness in Timeliness.values:
            delta[f"done_{facts.timeliness}"] = 1
        if facts.outcome in Outcome.values:
            delta[f"done_{facts.outcome}"] = 1
        delta["processing_seconds"] = max(0, facts.consumed_seconds)
        delta.update(_digitisation(facts))
    elif facts.action == Action.WITHDRAW:
        department, official = facts.department_id or 0, facts.official_id or 0
        delta["withdrawn"] = 1
        if facts.was_received:
            delta["withdrawn_received"] = 1
            if facts.timeliness in (Timeliness.EARLY, Timeliness.ON_TIME):
                delta["withdrawn_on_time"] = 1
    if facts.action in TERMINAL_ACTIONS and facts.supplement_count > 0:
        delta["ended_with_supplement"] = 1
    key: Key = (
        facts.day,
        facts.agency_id,
        department,
        official,
        facts.procedure_id,
        facts.channel,
    )
    return key, {name: value for name, value in delta.items() if value}


def _digitisation(facts: EventFacts) -> Delta:
    docs = facts.documents or DocumentFacts()
    approved = facts.outcome == Outcome.APPROVED
    inputs_digitised = docs.inputs > 0 and docs.inputs_digitised == docs.inputs
    result_digitised = approved and docs.results_digitised > 0
    return {
        "inputs_digitised": int(inputs_digitised),
        "result_digitised": int(result_digitised),
        "fully_digitised": int(inputs_digitised and (result_digitised or not approved)),
        "reused": int(docs.inputs_reused > 0),
        "data_store": int(docs.inputs_from_store > 0 or (result_digitised and facts.has_owner)),
    }


# --- reading the facts ------------------------------------------------------------------------


def _document_rows(dossier_ids: Iterable[int]) -> dict[int, DocumentFacts]:
    rows: dict[int, list[tuple[str, bool, bool, int | None]]] = defaultdict(list)
    documents = (
        DossierDocument.objects.filter(dossier_id__in=list(dossier_ids))
        .values_list("dossier_id", "kind", "is_digitised", "is_reused", "reused_from_id")
        .order_by()
    )
    for dossier_id, kind, is_digitised, is_reused, reused_from_id in documents:
        rows[dossier_id].append((kind, is_digitised, is_reused, reused_from_id))
    return {dossier_id: DocumentFacts.from_rows(r) for dossier_id, r in rows.items()}


def facts_for(
    event: DossierEvent, dossier: Dossier, documents: DocumentFacts | None = None
) -> EventFacts:
    base: dict[str, Any] = {
        "action": event.action,
        "day": local_day(event.at),
        "agency_id": dossier.agency_id,
        "procedure_id": dossier.procedure_id,
        "channel": dossier.channel,
    }
    if event.action in TERMINAL_ACTIONS:
        base.update(
            department_id=dossier.department_id,
            official_id=dossier.assignee_id,
            timeliness=(event.data or {}).get("timeliness") or dossier.timeliness,
            outcome=dossier.outcome,
            consumed_seconds=dossier.consumed_seconds,
            was_received=dossier.received_at is not None,
            supplement_count=dossier.supplement_count,
            has_owner=dossier.owner_id is not None,
            documents=documents or DocumentFacts(),
        )
    return EventFacts(**base)


# --- writing ----------------------------------------------------------------------------------


def _upsert_sql(table_name: str, grain: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    table = quote(table_name)
    keys = [quote(c) for c in grain]
    counters = [quote(c) for c in COUNTERS]
    columns = ", ".join(keys + counters)
    placeholders = ", ".join(["%s"] * (len(keys) + len(counters)))
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    # One statement that inserts the row or adds to it: safe when two transactions touch the
    # same row at once (the second waits for the first's row lock, then adds), on PostgreSQL
    # and SQLite alike, with no read-modify-write in Python.
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def agency_key(key: Key) -> tuple[date, int, str]:
    """The `AgencyDailyRollup` row a `DailyRollup` row adds to: (day, agency, channel)."""
    return key[0], key[1], key[5]


def upsert(deltas: Iterable[tuple[Key, Delta]]) -> int:
    """Add each delta to its row (creating the row when missing), and to its agency row
    (`AgencyDailyRollup`); returns the `DailyRollup` rows touched."""
    deltas = [(key, delta) for key, delta in deltas if delta]
    if not deltas:
        return 0
    closed_days.changed(min(key[0] for key, _delta in deltas))
    params = [[*key, *(delta.get(name, 0) for name in COUNTERS)] for key, delta in deltas]
    agency_params = [
        [*agency_key(key), *(delta.get(name, 0) for name in COUNTERS)] for key, delta in deltas
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(DailyRollup._meta.db_table, GRAIN), params)
        cursor.executemany(
            _upsert_sql(AgencyDailyRollup._meta.db_table, AGENCY_GRAIN), agency_params
        )
    return len(params)


def fill_agency_rollups(*, since: date | None = None) -> int:
    """Write the `AgencyDailyRollup` rows (all, or the days from `since`, which must have
    none yet) as the sums of the `DailyRollup` rows: one INSERT … SELECT … GROUP BY.
    Returns the rows written."""
    quote = connection.ops.quote_name
    grain = ", ".join(quote(c) for c in AGENCY_GRAIN)
    counters = ", ".join(quote(c) for c in COUNTERS)
    sums = ", ".join(f"SUM({quote(c)})" for c in COUNTERS)
    where, params = "", []
    if since is not None:
        where, params = f" WHERE {quote('day')} >= %s", [since]
    closed_days.changed()  # the rebuild, the backfill and `bench generate` come this way
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(AgencyDailyRollup._meta.db_table)} ({grain}, {counters}) "
            f"SELECT {grain}, {sums} FROM {quote(DailyRollup._meta.db_table)}{where} "
            f"GROUP BY {grain}",
            params,
        )
        return cursor.rowcount


def on_dossier_event(event: DossierEvent) -> None:
    """In-transaction dossier hook (registered in `IocConfig.ready`): the event's counters
    commit or roll back together with the transition."""
    if event.action not in COUNTED_ACTIONS:
        return
    dossier = event.dossier
    documents = None
    if event.action == Action.RETURN_RESULT:
        documents = _document_rows([dossier.pk]).get(dossier.pk, DocumentFacts())
    result = event_delta(facts_for(event, dossier, documents))
    if result is not None:
        upsert([result])


# --- rebuilding from the event log --------------------------------------------------------------


@dataclass(frozen=True)
class RebuildResult:
    events: int
    rows: int


def _counted_events(since: date | None, chunk: int) -> Iterator[list[DossierEvent]]:
    events = DossierEvent.objects.filter(action__in=COUNTED_ACTIONS).select_related("dossier")
    if since is not None:
        events = events.filter(at__gte=datetime.combine(since, datetime.min.time(), local_tz()))
    batch: list[DossierEvent] = []
    for event in events.order_by("at", "pk").iterator(chunk_size=chunk):
        batch.append(event)
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch


def _flush(rows: dict[Key, Delta]) -> int:
    objects = [
        DailyRollup(
            day=key[0],
            agency_id=key[1],
            department_ref=key[2],
            official_ref=key[3],
            procedure_id=key[4],
            channel=key[5],
            **delta,
        )
        for key, delta in rows.items()
    ]
    DailyRollup.objects.bulk_create(objects, batch_size=1000)
    return len(objects)


def rebuild(*, since: date | None = None, chunk: int = 2000) -> RebuildResult:
    """Recompute the rollups (all of them, or the days from `since`) from the event log,
    then the agency rollups from them.

    Runs in one transaction. On PostgreSQL it first locks the rollup table against writers,
    so a transition committing meanwhile either finished before (its event is replayed) or
    waits and adds its delta after (its event was not seen): counted once either way. On
    SQLite the DELETE takes the database's write lock with the same effect."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (DailyRollup, AgencyDailyRollup):
                    cursor.execute(
                        f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} "
                        "IN EXCLUSIVE MODE"
                    )
        for model in (DailyRollup, AgencyDailyRollup):
            old = model.objects.all()
            if since is not None:
                old = old.filter(day__gte=since)
            old.delete()
        pending: dict[Key, Delta] = {}
        events = rows = 0
        for batch in _counted_events(since, chunk):
            done_ids = [e.dossier_id for e in batch if e.action == Action.RETURN_RESULT]
            documents = _document_rows(done_ids) if done_ids else {}
            for event in batch:
                events += 1
                result = event_delta(
                    facts_for(event, event.dossier, documents.get(event.dossier_id))
                )
                if result is None:
                    continue
                key, delta = result
                row = pending.setdefault(key, {})
                for name, value in delta.items():
                    row[name] = row.get(name, 0) + value
            # Events come in time order, so the days before the last event's are complete:
            # write them out and keep memory to about a day of rows.
            last_day = local_day(batch[-1].at)
            complete = {k: v for k, v in pending.items() if k[0] < last_day}
            rows += _flush(complete)
            for key in complete:
                del pending[key]
        rows += _flush(pending)
        fill_agency_rollups(since=since)
    return RebuildResult(events=events, rows=rows)


__all__ = [
    "COUNTED_ACTIONS",
    "TERMINAL_ACTIONS",
    "DocumentFacts",
    "EventFacts",
    "RebuildResult",
    "agency_key",
    "event_delta",
    "facts_for",
    "fill_agency_rollups",
    "on_dossier_event",
    "rebuild",
    "upsert",
]
