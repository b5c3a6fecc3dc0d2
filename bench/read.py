"""Read latency at scale (issue #8 item 3, issue #7's benchmark): `python -m bench read
[--samples 200]` against `DATABASE_URL` (generated with `python -m bench generate`).

Each page is requested through Django's test `Client` in this process (DEBUG off), signed in
as the persona who uses it, warmed up, then timed end to end (`time.perf_counter` around
`client.get`/`post`, rendering included). Prints p50/p95/max against the targets of issue #8,
the resident memory of the process afterwards, and for each page the slowest SQL query of
one request (`CaptureQueriesContext`); with `--explain`, the `EXPLAIN (ANALYZE, BUFFERS)` of
that query for the pages that miss their target.

The dashboards read the open-dossier snapshots the worker takes every 30 seconds
(`tinhso.ioc.snapshots`): the benchmark takes them as the worker would, before each page and
again between two samples once 30 seconds have passed (not timed; about 0.1 s of work every
30 s, which the worker does in its own process). `--no-snapshots` deletes them and measures
the pages counting live, as without a worker."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MB = 1024 * 1024


@dataclass
class Page:
    name: str
    target_ms: float
    request: Callable[[int], Any]  # sample index -> response
    times_ms: list[float] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)
    slowest: tuple[float, str] | None = None
    queries: int = 0
    note: str = ""


def _rss_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process, in MiB."""
    values = {}
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, _unit = line.split()
                values[key[:-1]] = int(amount) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench read")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=180,
        help="stop sampling a page after this long (its count is reported)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN (ANALYZE, BUFFERS) the slowest query of pages over target",
    )
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument(
        "--no-snapshots",
        action="store_true",
        help="no worker: the dashboards count the open dossiers live",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinhso.settings")
    os.environ["TINHSO_DEBUG"] = "0"
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tinhso.core.models import Role, User
    from tinhso.dossiers.models import Dossier

    if connection.vendor != "postgresql":
        sys.exit("bench read measures the PostgreSQL scale database: set DATABASE_URL.")
    settings.DEBUG = False
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    # --- personas and the dossiers they look at (setup, not timed) ------------------------------
    leader = (
        User.objects.filter(roles__role=Role.PROVINCIAL_LEADER, is_active=True)
        .order_by("pk")
        .first()
    )
    busiest = (
        Dossier.objects.values("agency_id")
        .annotate(n=Count("id"))
        .order_by("-n", "agency_id")
        .first()
    )
    agency_id = busiest["agency_id"]
    desk = (
        User.objects.filter(agency_id=agency_id, roles__role=Role.DESK_OFFICER, is_active=True)
        .order_by("pk")
        .first()
    )
    top_assignee = (
        Dossier.objects.filter(assignee__roles__role=Role.SPECIALIST)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by("-n", "assignee_id")
        .first()
    )
    specialist = User.objects.get(pk=top_assignee["assignee_id"])
    # The drill-down below the agency: the busiest agency's busiest department.
    department_id = (
        Dossier.objects.filter(agency_id=agency_id, department__isnull=False)
        .values("department_id")
        .annotate(n=Count("id"))
        .order_by("-n", "department_id")
        .first()["department_id"]
    )
    dossier_ids = list(
        Dossier.objects.filter(agency_id=agency_id).order_by("?").values_list("id", flat=True)[:500]
    )
    tracked = list(
        Dossier.objects.filter(pk__in=dossier_ids).values_list("code", "applicant_phone")
    )
    total = Dossier.objects.count()
    print(f"database: {connection.settings_dict['NAME']}, {total:,} dossiers")
    print(
        f"personas: provincial leader {leader.username}; desk officer {desk.username} and "
        f"agency {agency_id} ({busiest['n']:,} dossiers); specialist {specialist.username} "
        f"({top_assignee['n']:,} dossiers assigned)"
    )

    clients = {}
    for user in (leader, desk, specialist):
        client = Client()
        client.force_login(user)
        clients[user.pk] = client
    public = Client()

    def get(user: Any, url: str) -> Callable[[int], Any]:
        return lambda i: clients[user.pk].get(url)

    def dossier_page(i: int) -> Any:
        return clients[desk.pk].get(
            reverse("dossiers:detail", args=[dossier_ids[i % len(dossier_ids)]])
        )

    def track(i: int) -> Any:
        code, phone = tracked[i % len(tracked)]
        # The form allows a few attempts per address: each sample comes from its own.
        return public.post(
            reverse("portal:track"),
            {"code": code, "factor": phone},
            REMOTE_ADDR=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
        )

    pages = [
        Page(
            "province dashboard (/ioc/, provincial leader)",
            300,
            get(leader, reverse("ioc:overview")),
        ),
        Page(
            f"agency drill-down (/ioc/agency/{agency_id}/, provincial leader)",
            300,
            get(leader, reverse("ioc:scope", args=["agency", agency_id])),
        ),
        Page(
            f"department drill-down (/ioc/department/{department_id}/, provincial leader)",
            300,
            get(leader, reverse("ioc:scope", args=["department", department_id])),
        ),
        Page(
            f"official drill-down (/ioc/official/{specialist.pk}/, provincial leader)",
            300,
            get(leader, reverse("ioc:scope", args=["official", specialist.pk])),
        ),
        Page("inbox, desk officer (default box)", 100, get(desk, reverse("dossiers:inbox"))),
        Page("inbox, specialist (default box)", 100, get(specialist, reverse("dossiers:inbox"))),
        Page("dossier page (desk officer, own agency)", 100, dossier_page),
        Page("public tracking look-up (POST /portal/track/)", 50, track),
    ]
    if args.only:
        wanted = [w.strip() for w in args.only.split(",")]
        pages = [p for p in pages if any(w in p.name for w in wanted)]

    from tinhso.ioc import snapshots
    from tinhso.ioc.models import OpenSnapshot

    taken_at = [0.0]

    def worker_snapshot() -> None:
        """What the worker does every 30 s (outside the timed requests)."""
        if args.no_snapshots:
            OpenSnapshot.objects.all().delete()
        elif time.perf_counter() - taken_at[0] >= 30:
            snapshots.take()
            taken_at[0] = time.perf_counter()

    for page in pages:
        cache.clear()
        worker_snapshot()
        for i in range(args.warmup):
            response = page.request(10_000 + i)
            page.statuses.add(response.status_code)
        started = time.perf_counter()
        for i in range(args.samples):
            worker_snapshot()
            begin = time.perf_counter()
            response = page.request(i)
            page.times_ms.append((time.perf_counter() - begin) * 1000)
            page.statuses.add(response.status_code)
            if time.perf_counter() - started > args.max_seconds:
                page.note = (
                    f"stopped after {len(page.times_ms)} samples ({args.max_seconds:.0f} s cap)"
                )
                break
        print(
            f"  {page.name}: {len(page.times_ms)} samples, p50 "
            f"{statistics.median(page.times_ms):.1f} ms",
            flush=True,
        )
    rss, hwm = _rss_mb()

    # --- the slowest query behind each page (one more request, not timed) ----------------------
    for page in pages:
        with CaptureQueriesContext(connection) as captured:
            page.request(20_000)
        page.queries = len(captured.captured_queries)
        if captured.captured_queries:
            slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
            page.slowest = (float(slowest["time"]) * 1000, slowest["sql"])

    print()
    print(
        f"{'page':62} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>8}  "
        f"{'queries':>7} result"
    )
    results = {}
    for page in pages:
        p50 = _percentile(page.times_ms, 0.5)
        p95 = _percentile(page.times_ms, 0.95)
        worst = max(page.times_ms)
        ok = p95 < page.target_ms
        results[page.name] = {"p50": p50, "p95": p95, "max": worst, "ok": ok}
        print(
            f"{page.name:62} {len(page.times_ms):>4} {p50:8.1f} {p95:8.1f} {worst:8.1f} "
            f"{'< ' + str(int(page.target_ms)):>8}  {page.queries:>7} "
            f"{'met' if ok else 'MISSED'}  statuses {sorted(page.statuses)} {page.note}"
        )
    print(
        f"{'one web worker, RSS after the run (VmRSS / peak VmHWM)':62} "
        f"{rss:.0f} MiB / {hwm:.0f} MiB (target < 200 MB) "
        f"{'met' if hwm * MB < 200e6 else 'MISSED'}"
    )
    print()
    for page in pages:
        if page.slowest:
            ms, sql = page.slowest
            print(
                f"slowest query of {page.name} ({page.queries} queries): {ms:.1f} ms\n  {sql[:600]}"
            )
            if args.explain and not results[page.name]["ok"]:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                print("  EXPLAIN (ANALYZE, BUFFERS):\n    " + plan.replace("\n", "\n    "))
                scans = [line.strip() for line in plan.splitlines() if "Seq Scan on" in line]
                if scans:
                    print("  sequential scans: " + "; ".join(scans))
            print()
    return {"pages": results, "rss_mb": rss, "hwm_mb": hwm}
