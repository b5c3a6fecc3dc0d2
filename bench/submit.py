"""Submission throughput through the HTTP API (issue #8 item 2): `python -m bench submit
[--clients 32] [--seconds 30] [--workers 2,4] [--threads 1] [--fee] [--agencies 1]
[--profile] [--without-hot-rows]`.

It creates a fresh PostgreSQL database `tinhso_submit_<timestamp>` on the server of
`DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`; `--database-url` uses an
existing database as it is), migrates, loads the demo province without dossiers, registers an
API client (scopes dossiers:write/read, a rate limit no benchmark reaches) acting as a desk
officer of a commune agency, and starts gunicorn (`tinhso.wsgi:application`, DEBUG off, the
simulators off, persistent database connections as `.env.example` recommends) once per worker
count. N client threads, each with its own keep-alive `http.client` connection, loop: POST
`/api/v1/dossiers` (a procedure of that agency without a fee; with `--fee` also a run with
one), then POST `/api/v1/dossiers/{code}/receive`. A pair is both requests; its latency is
end to end at the client. Any non-2xx answer is an error, counted and printed.

Then the raw-SQL baseline on the same database: psycopg, as many connections as clients, each
replaying in one transaction the writes one real submission + reception makes (recorded with
`connection.execute_wrapper` around the two service calls: the code counter upsert, the
dossier row, the events, the step visit, the outbox messages, the rollup upserts, the lock
and update of the dossier at reception, the bill with `--fee`), with fresh codes and ids, the
same statements and parameters otherwise. It reports pairs/s and the HTTP/baseline ratio.
`--without-hot-rows` adds a second baseline run replaying the design that takes the rows every
submission of an agency shares out of the transaction: the code's number from a PostgreSQL
sequence, the rollups left to the worker (not replayed).

Before the timed runs it waits (at most `--quiet-minutes`, 15) until no other pytest or
bench process runs and the 1-minute load average is below 1.0, and says if it never was.
`--profile` adds the in-process view: queries per request (`CaptureQueriesContext`), the time
each in-transaction hook takes, and the top of a cProfile of the same two requests through
Django's test client.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

TARGET_RATE = 300.0  # pairs/s, 2 cores, PostgreSQL on the same machine
TARGET_RATIO = 0.25  # of the raw-SQL baseline's rate
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
API = "/api/v1"
CLIENT_NAME = "bench-submit"
APPLICANT = {
    "name": "Nguyễn Văn Bench",
    "id_number": "019090000001",
    "phone": "0912345678",
    "email": "bench@example.vn",
    "address": "Tổ 1, phường Bench",
}


# --- the machine ------------------------------------------------------------------------------


def _machine() -> str:
    mem = 0
    with contextlib.suppress(OSError), Path("/proc/meminfo").open() as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024 // 1024
    model = ""
    with contextlib.suppress(OSError), Path("/proc/cpuinfo").open() as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model or platform.machine()}), {mem} GiB RAM"


def _load1() -> float:
    return os.getloadavg()[0]


def _others_running() -> list[str]:
    """pytest / bench processes that are not this one or its children."""
    mine = {os.getpid(), os.getppid()}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = int(re.search(r"PPid:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        if ppid in mine:
            continue
        if re.search(r"pytest|-m bench|bench/|gunicorn", cmd) and "bench submit" not in cmd:
            found.append(f"{entry.name}: {cmd[:100]}")
    return found


def wait_quiet(max_minutes: float) -> str:
    deadline = time.monotonic() + max_minutes * 60
    while True:
        others = _others_running()
        load = _load1()
        if not others and load < 1.0:
            return f"quiet (load1 {load:.2f}, no other pytest/bench process)"
        if time.monotonic() >= deadline:
            return (
                f"NOT QUIET after {max_minutes:g} min: load1 {load:.2f}, other processes: "
                f"{'; '.join(others) or 'none'} (measured anyway)"
            )
        print(
            f"# waiting for a quiet machine: load1 {load:.2f}, {len(others)} other process(es)"
            + (f" ({others[0]})" if others else ""),
            flush=True,
        )
        time.sleep(30)


# --- database and fixtures --------------------------------------------------------------------


def _create_database(server_url: str) -> str:
    import psycopg

    name = f"tinhso_submit_{datetime.now():%Y%m%d_%H%M%S}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


@dataclass
class Fixture:
    agencies: list[str]  # agency codes, one API client each
    keys: list[str]
    procedure: str  # without a fee
    fee_procedure: str | None
    pg_version: str


def _setup(database_url: str, agencies_wanted: int) -> Fixture:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinhso.settings")
    os.environ["TINHSO_SIMULATORS"] = "0"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tinhso.catalog.models import Procedure
    from tinhso.core.demo import demo_load
    from tinhso.core.models import Agency, Role, User
    from tinhso.integration import clients
    from tinhso.integration.models import ApiClient

    call_command("migrate", verbosity=0)
    demo_load(dossiers=False)
    communes = [
        a
        for a in Agency.objects.filter(kind="commune_committee").order_by("code")
        if User.objects.filter(agency=a, roles__role=Role.DESK_OFFICER, is_active=True).exists()
    ][:agencies_wanted]
    kind = communes[0].kind
    candidates = [
        p
        for p in Procedure.objects.filter(is_active=True).order_by("code")
        if kind in (p.agency_kinds or []) and p.workflow_steps.exists()
    ]
    free = [p for p in candidates if not p.fee_cases.filter(amount__gt=0).exists()]
    paid = [p for p in candidates if p.fee_cases.filter(amount__gt=0).exists()]
    if not free:
        sys.exit("no commune procedure without a fee in the demo catalog")
    keys = []
    for agency in communes:
        name = f"{CLIENT_NAME}-{agency.code}"
        client = ApiClient.objects.filter(name=name).first() or clients.api_client_create(
            actor=None,
            name=name,
            scopes=["dossiers:write", "dossiers:read"],
            rate_limit_per_minute=100_000_000,
            agency=agency,
            roles=[Role.DESK_OFFICER],
            source="cli",
        )
        keys.append(clients.api_key_issue(actor=None, client=client, source="cli")[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return Fixture(
        agencies=[a.code for a in communes],
        keys=keys,
        procedure=free[0].code,
        fee_procedure=paid[0].code if paid else None,
        pg_version=version,
    )


# --- gunicorn ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url: str, workers: int, threads: int, conn_max_age: int) -> None:
        self.port = _free_port()
        self.workers, self.threads = workers, threads
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url,
            TINHSO_DEBUG="0",
            TINHSO_SIMULATORS="0",
            TINHSO_DEMO="0",
            TINHSO_ALLOWED_HOSTS="127.0.0.1,localhost",
            TINHSO_DB_CONN_MAX_AGE=str(conn_max_age),
            TINHSO_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="tinhso.settings",
        )
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "tinhso.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
        ]
        if threads > 1:
            self.command += ["--threads", str(threads)]
        self.log = Path(f"/tmp/bench-submit-gunicorn-{self.port}.log").open("w")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait_live()

    def _wait_live(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited ({self.process.returncode}); see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health/live")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit("gunicorn did not answer /health/live within 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: workers finish their request
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- the HTTP load ----------------------------------------------------------------------------


@dataclass
class Tally:
    pairs: list[float] = field(default_factory=list)  # seconds, pairs done inside the window
    submit: list[float] = field(default_factory=list)
    receive: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)


def _post(conn: http.client.HTTPConnection, path: str, body: dict, key: str) -> tuple[int, bytes]:
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-API-Key": key}
    for attempt in (1, 2):
        try:
            conn.request("POST", path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A keep-alive connection the server closed between requests: reopen once.
            conn.close()
            if attempt == 2:
                raise
    raise AssertionError


def _client_loop(
    port: int,
    key: str,
    agency: str,
    procedure: str,
    start: float,
    end: float,
    tally: Tally,
    lock: threading.Lock,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    submit_body = {
        "procedure_code": procedure,
        "agency_code": agency,
        "channel": "online",
        "applicant": APPLICANT,
    }
    pairs, submits, receives = [], [], []
    errors: Counter = Counter()
    samples: dict[str, str] = {}
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        try:
            status, answer = _post(conn, f"{API}/dossiers", submit_body, key)
            t1 = time.perf_counter()
            if status != 201:
                errors[f"submit {status}"] += 1
                samples.setdefault(f"submit {status}", answer[:300].decode(errors="replace"))
                continue
            dossier = json.loads(answer)
            status, answer = _post(
                conn,
                f"{API}/dossiers/{dossier['code']}/receive",
                {"expected_version": dossier["version"]},
                key,
            )
            t2 = time.perf_counter()
        except OSError as exc:
            errors[f"{exc.__class__.__name__}"] += 1
            samples.setdefault(exc.__class__.__name__, str(exc))
            conn.close()
            continue
        if status != 200:
            errors[f"receive {status}"] += 1
            samples.setdefault(f"receive {status}", answer[:300].decode(errors="replace"))
            continue
        if t0 >= start and t2 <= end:
            pairs.append(t2 - t0)
            submits.append(t1 - t0)
            receives.append(t2 - t1)
    conn.close()
    with lock:
        tally.pairs += pairs
        tally.submit += submits
        tally.receive += receives
        tally.errors.update(errors)
        for k, v in samples.items():
            tally.samples.setdefault(k, v)


def _cpu_snapshot() -> dict[Any, float]:
    """CPU seconds so far: the whole machine's busy and total time, and each gunicorn /
    postgres process's own (user + system), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    with Path("/proc/stat").open() as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    snap: dict[Any, float] = {"busy": (sum(fields) - idle) / tick, "total": sum(fields) / tick}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(rest[11]) + int(rest[12])) / tick
        if comm.startswith("postgres"):
            snap[("postgres", entry.name)] = seconds
        elif b"gunicorn" in cmd:
            snap[("gunicorn", entry.name)] = seconds
    return snap


def _cpu_use(before: dict[Any, float], after: dict[Any, float], wall: float) -> str:
    """Cores used between two snapshots (processes that exited in between are not counted)."""
    cores = (after["total"] - before["total"]) or 1.0
    busy = (after["busy"] - before["busy"]) / cores * (os.cpu_count() or 1)
    used: Counter = Counter()
    for key, seconds in after.items():
        if isinstance(key, tuple):
            used[key[0]] += seconds - before.get(key, 0.0)
    return (
        f"CPU: machine {busy:.2f} of {os.cpu_count()} cores busy, gunicorn "
        f"{used['gunicorn'] / wall:.2f}, postgres {used['postgres'] / wall:.2f}"
    )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def http_run(
    port: int, fixture: Fixture, procedure: str, clients: int, seconds: float, warmup: float
) -> dict[str, Any]:
    tally, lock = Tally(), threading.Lock()
    start = time.perf_counter() + warmup
    end = start + seconds
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(
                port,
                fixture.keys[i % len(fixture.keys)],
                fixture.agencies[i % len(fixture.agencies)],
                procedure,
                start,
                end,
                tally,
                lock,
            ),
            daemon=True,
        )
        for i in range(clients)
    ]
    cpu0 = os.times()
    for t in threads:
        t.start()
    time.sleep(max(0.0, start - time.perf_counter()))
    snap0, w0 = _cpu_snapshot(), time.perf_counter()
    time.sleep(max(0.0, end - time.perf_counter()))
    snap1, w1 = _cpu_snapshot(), time.perf_counter()
    for t in threads:
        t.join()
    cpu1 = os.times()
    ms = 1000
    return {
        "pairs": len(tally.pairs),
        "rate": len(tally.pairs) / seconds,
        "p50": _pct(tally.pairs, 0.50) * ms,
        "p95": _pct(tally.pairs, 0.95) * ms,
        "p99": _pct(tally.pairs, 0.99) * ms,
        "submit_p50": _pct(tally.submit, 0.5) * ms,
        "receive_p50": _pct(tally.receive, 0.5) * ms,
        "errors": dict(tally.errors),
        "samples": tally.samples,
        "client_cpu": (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (seconds + warmup),
        "cpu": _cpu_use(snap0, snap1, w1 - w0),
    }


# --- the raw-SQL baseline ---------------------------------------------------------------------


@dataclass
class Statement:
    sql: str
    params: Any
    many: bool
    table: str
    columns: list[str | None]  # the column each parameter goes to (None: unknown)
    returns_id: bool


_INSERT = re.compile(r'^INSERT INTO "?(\w+)"?\s*\(([^)]*)\)', re.I)
_UPDATE = re.compile(r'^UPDATE "?(\w+)"?', re.I)
_SELECT_FOR_UPDATE = re.compile(r"FOR (NO KEY )?UPDATE", re.I)
_COLUMN_PARAM = re.compile(r'"?(\w+)"?\s*(?:=|<|>|<=|>=|IN \()\s*%s', re.I)


def _statement(sql: str, params: Any, many: bool) -> Statement | None:
    """The statement if the baseline replays it: writes, and the reception's row lock."""
    head = sql.lstrip()
    m = _INSERT.match(head)
    if m:
        table = m.group(1)
        columns: list[str | None] = [c.strip().strip('"') for c in m.group(2).split(",")]
        return Statement(sql, params, many, table, columns, "RETURNING" in sql.upper())
    m = _UPDATE.match(head)
    if m:
        return Statement(sql, params, many, m.group(1), _COLUMN_PARAM.findall(head), False)
    if head.upper().startswith("DELETE"):
        table = re.search(r'FROM "?(\w+)"?', head).group(1)  # type: ignore[union-attr]
        return Statement(sql, params, many, table, _COLUMN_PARAM.findall(head), False)
    if head.upper().startswith("SELECT") and _SELECT_FOR_UPDATE.search(head):
        table = re.search(r'FROM "?(\w+)"?', head).group(1)  # type: ignore[union-attr]
        return Statement(sql, params, many, table, _COLUMN_PARAM.findall(head), False)
    return None


@dataclass
class Recording:
    statements: list[Statement]
    all_queries: list[str]
    old_code: str
    agency_code: str
    old_ids: dict[str, list[int]]  # table -> ids the recorded INSERTs returned, in order


def record_pair(procedure_code: str, agency_code: str) -> Recording:
    """Submit and receive one dossier through the services, recording every statement."""
    from django.db import connection

    from tinhso.catalog.models import Procedure
    from tinhso.core.models import Agency, User
    from tinhso.dossiers import services

    procedure = Procedure.objects.get(code=procedure_code)
    agency = Agency.objects.get(code=agency_code)
    actor = User.objects.get(username=f"api:{CLIENT_NAME}-{agency_code}")
    applicant = services.Applicant(**APPLICANT)
    raw: list[tuple[str, Any, bool]] = []

    def wrapper(execute, sql, params, many, context):
        raw.append((sql, params, many))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        dossier = services.dossier_submit(
            actor=actor, procedure=procedure, agency=agency, channel="online", applicant=applicant
        )
        services.dossier_receive(actor=actor, dossier=dossier, expected_version=dossier.version)
    statements = [s for s in (_statement(*r) for r in raw) if s is not None]
    inserted: dict[str, int] = Counter(s.table for s in statements if s.returns_id)
    old_ids: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        for table, n in inserted.items():
            cursor.execute(f'SELECT id FROM "{table}" ORDER BY id DESC LIMIT %s', [n])
            old_ids[table] = sorted(r[0] for r in cursor.fetchall())
    return Recording(statements, [r[0] for r in raw], dossier.code, agency_code, old_ids)


def _sub(value: Any, old: str, new: str) -> Any:
    from psycopg.types.json import Jsonb

    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, Jsonb):
        dumps = value.dumps or json.dumps
        return Jsonb(json.loads(dumps(value.obj).replace(old, new)))
    if hasattr(value, "dumps") and hasattr(value, "obj"):  # Django's own Jsonb subclass
        return Jsonb(json.loads(value.dumps(value.obj).replace(old, new)))
    return value


#: The tables whose rows every submission of an agency on a day shares (the hot rows).
HOT_TABLES = ("dossiers_dossiercodecounter", "ioc_dailyrollup", "ioc_agencydailyrollup")
CODE_SEQUENCE = "bench_submit_code_seq"


class Replayer:
    """Replays a recording with a fresh code (from the same counter upsert) and fresh ids.

    `without_hot_rows` replays the design that would take the shared rows out of the
    transaction: the code's number comes from a PostgreSQL sequence (no row lock) and the
    rollup upserts are left to a worker reading the event log, so they are not replayed."""

    def __init__(self, rec: Recording, *, without_hot_rows: bool = False) -> None:
        self.rec = rec
        self.without_hot_rows = without_hot_rows
        # Django's placeholders are %s already; psycopg takes them as they are.
        self.counter_index = next(
            i for i, s in enumerate(rec.statements) if s.table == "dossiers_dossiercodecounter"
        )
        self.old_seq = int(rec.old_code.rsplit("-", 1)[1])
        self.prefix = rec.old_code.rsplit("-", 1)[0]
        # The table an id-ish column points to: `dossier_id` -> dossiers_dossier, and so on.
        self.tables = list(rec.old_ids)

    def _table_for(self, column: str | None, own_table: str) -> str | None:
        if column is None:
            return None
        if column == "id":
            return own_table
        if column.endswith("_id"):
            stem = column[:-3]
            for table in self.tables:
                if table.endswith(f"_{stem}"):
                    return table
        return None

    def pair(self, conn: Any) -> None:
        rec = self.rec
        ids: dict[tuple[str, int], int] = {}
        seen: Counter = Counter()
        code = rec.old_code
        with conn.transaction(), conn.cursor() as cur:
            for i, st in enumerate(rec.statements):
                if self.without_hot_rows and st.table in HOT_TABLES:
                    if i == self.counter_index:
                        cur.execute(f"SELECT nextval('{CODE_SEQUENCE}')")
                        code = f"{self.prefix}-S{cur.fetchone()[0]:06d}"
                    continue
                rows = st.params if st.many else [st.params]
                new_rows = []
                for row in rows:
                    row = list(row or [])
                    for j, value in enumerate(row):
                        column = st.columns[j] if j < len(st.columns) else None
                        if isinstance(value, int) and not isinstance(value, bool):
                            table = self._table_for(column, st.table)
                            if table is not None and (table, value) in ids:
                                row[j] = ids[(table, value)]
                        else:
                            row[j] = _sub(value, rec.old_code, code)
                    new_rows.append(row)
                if st.many:
                    cur.executemany(st.sql, new_rows)
                    continue
                cur.execute(st.sql, new_rows[0])
                if i == self.counter_index:
                    seq = cur.fetchone()[0]
                    code = f"{self.prefix}-{seq:04d}"
                elif st.returns_id:
                    n = seen[st.table]
                    seen[st.table] += 1
                    ids[(st.table, rec.old_ids[st.table][n])] = cur.fetchone()[0]
                elif cur.description is not None:
                    cur.fetchall()


def baseline_run(
    database_url: str,
    rec: Recording,
    clients: int,
    seconds: float,
    warmup: float,
    *,
    without_hot_rows: bool = False,
) -> dict[str, Any]:
    import psycopg

    replayer = Replayer(rec, without_hot_rows=without_hot_rows)
    if without_hot_rows:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {CODE_SEQUENCE}")
    done: list[float] = []
    errors: Counter = Counter()
    samples: dict[str, str] = {}
    lock = threading.Lock()
    start = time.perf_counter() + warmup
    end = start + seconds

    def loop() -> None:
        mine, errs = [], Counter()
        with psycopg.connect(database_url) as conn:
            while True:
                t0 = time.perf_counter()
                if t0 >= end:
                    break
                try:
                    replayer.pair(conn)
                except psycopg.Error as exc:
                    errs[exc.__class__.__name__] += 1
                    samples.setdefault(exc.__class__.__name__, str(exc)[:300])
                    continue
                t1 = time.perf_counter()
                if t0 >= start and t1 <= end:
                    mine.append(t1 - t0)
        with lock:
            done.extend(mine)
            errors.update(errs)

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, start - time.perf_counter()))
    snap0, w0 = _cpu_snapshot(), time.perf_counter()
    time.sleep(max(0.0, end - time.perf_counter()))
    snap1, w1 = _cpu_snapshot(), time.perf_counter()
    for t in threads:
        t.join()
    return {
        "pairs": len(done),
        "rate": len(done) / seconds,
        "p50": _pct(done, 0.5) * 1000,
        "p95": _pct(done, 0.95) * 1000,
        "p99": _pct(done, 0.99) * 1000,
        "errors": dict(errors),
        "samples": samples,
        "cpu": _cpu_use(snap0, snap1, w1 - w0),
    }


# --- the in-process view (--profile) ----------------------------------------------------------


def profile(fixture: Fixture, procedure: str, pairs: int = 300) -> None:
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tinhso.dossiers import hooks

    key, agency = fixture.keys[0], fixture.agencies[0]
    client = Client(HTTP_X_API_KEY=key, HTTP_HOST="127.0.0.1")
    body = {
        "procedure_code": procedure,
        "agency_code": agency,
        "channel": "online",
        "applicant": APPLICANT,
    }

    def one_pair() -> None:
        r = client.post(f"{API}/dossiers", body, content_type="application/json")
        assert r.status_code == 201, r.content[:300]
        d = r.json()
        r = client.post(
            f"{API}/dossiers/{d['code']}/receive",
            {"expected_version": d["version"]},
            content_type="application/json",
        )
        assert r.status_code == 200, r.content[:300]

    for _ in range(20):
        one_pair()  # warm: caches, prepared imports
    # Queries per request.
    with CaptureQueriesContext(connection) as submit_q:
        r = client.post(f"{API}/dossiers", body, content_type="application/json")
    d = r.json()
    with CaptureQueriesContext(connection) as receive_q:
        client.post(
            f"{API}/dossiers/{d['code']}/receive",
            {"expected_version": d["version"]},
            content_type="application/json",
        )

    def kinds(queries: list[dict]) -> str:
        c: Counter = Counter()
        for q in queries:
            sql = q["sql"].lstrip()
            verb = sql.split()[0].upper()
            m = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.I)
            c[f"{verb} {m.group(1) if m else '?'}"] += 1
        return ", ".join(f"{k}×{n}" if n > 1 else k for k, n in c.items())

    print(
        f"# queries per pair through HTTP: {len(submit_q) + len(receive_q)} "
        f"(submit {len(submit_q)}, receive {len(receive_q)})"
    )
    print(f"#   submit:  {kinds(submit_q.captured_queries)}")
    print(f"#   receive: {kinds(receive_q.captured_queries)}")

    # Time in each in-transaction hook, and in the whole request.
    spent: dict[str, list[float]] = defaultdict(list)
    originals = list(hooks._in_transaction)

    def timed(hook):
        name = f"{hook.__module__}.{hook.__qualname__}"

        def run(event):
            t = time.perf_counter()
            try:
                return hook(event)
            finally:
                spent[f"{name} ({event.action})"].append(time.perf_counter() - t)

        return run

    hooks._in_transaction[:] = [timed(h) for h in originals]
    try:
        t0 = time.perf_counter()
        for _ in range(pairs):
            one_pair()
        wall = time.perf_counter() - t0
    finally:
        hooks._in_transaction[:] = originals
    print(
        f"# in-process, one thread, test client: {pairs / wall:.0f} pairs/s "
        f"({wall / pairs * 1000:.2f} ms per pair)"
    )
    for name, times in sorted(spent.items(), key=lambda kv: -sum(kv[1])):
        print(f"#   hook {name}: {statistics.mean(times) * 1000:.3f} ms mean")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(pairs):
        one_pair()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(45)
    print("# cProfile, cumulative, of", pairs, "pairs through the test client:")
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print("# cProfile, own time:")
    print(out.getvalue())


# --- main -------------------------------------------------------------------------------------


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench submit")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5, help="seconds before timing")
    parser.add_argument("--workers", default="2,4", help="gunicorn worker counts, e.g. 2,4")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--conn-max-age", type=int, default=60, help="TINHSO_DB_CONN_MAX_AGE")
    parser.add_argument("--agencies", type=int, default=1, help="spread over N commune agencies")
    parser.add_argument("--fee", action="store_true", help="also a run with a fee procedure")
    parser.add_argument("--database-url", help="use this database as it is (no create)")
    parser.add_argument("--server-url", default=os.environ.get("DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--quiet-minutes", type=float, default=15)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--without-hot-rows",
        action="store_true",
        help="also the baseline without the shared counter and rollup rows",
    )
    parser.add_argument("--profile", action="store_true", help="in-process queries and cProfile")
    args = parser.parse_args(argv)

    command = "python -m bench submit " + " ".join(shlex.quote(a) for a in (argv or []))
    database_url = args.database_url or _create_database(args.server_url)
    fixture = _setup(database_url, args.agencies)
    print(f"# command: {command}")
    print(f"# machine: {_machine()}; PostgreSQL {fixture.pg_version}; database {database_url}")
    print(
        f"# agencies {', '.join(fixture.agencies)}; procedure {fixture.procedure} (no fee)"
        + (f", {fixture.fee_procedure} (fee)" if fixture.fee_procedure else "")
    )
    procedures = [("no fee", fixture.procedure)]
    if args.fee and fixture.fee_procedure:
        procedures.append(("fee", fixture.fee_procedure))

    if args.profile:
        for label, procedure in procedures:
            print(f"## profile ({label})")
            profile(fixture, procedure)

    print(f"# {wait_quiet(args.quiet_minutes)}", flush=True)
    results: dict[str, Any] = {"http": {}, "baseline": {}}
    for workers in [int(w) for w in str(args.workers).split(",") if w]:
        server = Server(database_url, workers, args.threads, args.conn_max_age)
        try:
            for label, procedure in procedures:
                r = http_run(
                    server.port, fixture, procedure, args.clients, args.seconds, args.warmup
                )
                results["http"][(workers, label)] = r
                print(
                    f"HTTP  workers={workers} threads={args.threads} clients={args.clients} "
                    f"{label}: {r['rate']:.0f} pairs/s ({r['pairs']} in {args.seconds:g} s), "
                    f"pair p50 {r['p50']:.1f} / p95 {r['p95']:.1f} / p99 {r['p99']:.1f} ms "
                    f"(submit p50 {r['submit_p50']:.1f}, receive p50 {r['receive_p50']:.1f}); "
                    f"errors {sum(r['errors'].values())} {r['errors'] or ''}; "
                    f"load generator {r['client_cpu']:.2f} cores; {r['cpu']}",
                    flush=True,
                )
                for k, v in r["samples"].items():
                    print(f"    {k}: {v}")
        finally:
            server.stop()

    if not args.no_baseline:
        for label, procedure in procedures:
            rec = record_pair(procedure, fixture.agencies[0])
            writes = Counter(f"{s.sql.split()[0].upper()} {s.table}" for s in rec.statements)
            print(
                f"# baseline ({label}) replays {len(rec.statements)} of the "
                f"{len(rec.all_queries)} statements of one service pair: "
                + ", ".join(f"{k}×{n}" if n > 1 else k for k, n in writes.items())
            )
            variants = [(f"psycopg connections={args.clients}", False)]
            if args.without_hot_rows:
                variants.append(("without hot rows (code from a sequence, no rollups)", True))
            for title, without_hot_rows in variants:
                b = baseline_run(
                    database_url,
                    rec,
                    args.clients,
                    args.seconds,
                    args.warmup,
                    without_hot_rows=without_hot_rows,
                )
                if not without_hot_rows:
                    results["baseline"][label] = b
                print(
                    f"RAW   {title} {label}: {b['rate']:.0f} pairs/s, "
                    f"p50 {b['p50']:.1f} / p95 {b['p95']:.1f} / p99 {b['p99']:.1f} ms; "
                    f"errors {sum(b['errors'].values())} {b['errors'] or ''}; {b['cpu']}",
                    flush=True,
                )
                for k, v in b["samples"].items():
                    print(f"    {k}: {v}")
        for (workers, label), r in results["http"].items():
            b = results["baseline"].get(label)
            if b and b["rate"]:
                ratio = r["rate"] / b["rate"]
                ok = r["rate"] >= TARGET_RATE and ratio >= TARGET_RATIO
                print(
                    f"RATIO workers={workers} {label}: {r['rate']:.0f} / {b['rate']:.0f} = "
                    f"{ratio:.1%} (targets ≥ {TARGET_RATE:.0f}/s and ≥ {TARGET_RATIO:.0%}: "
                    f"{'met' if ok else 'NOT met'})"
                )
    return results
