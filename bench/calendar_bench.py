"""Deadline computation: every received dossier and every indicator rebuild calls `due` and
`working_hours_between`, so they must stay in the tens of microseconds."""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta

from tinhso.core.working_calendar import VIETNAM_TZ, WorkingCalendar

TARGET_DUE_US = 100.0  # per call, 15 working days, warm cache
TARGET_HOURS_US = 100.0


def _timed(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def run(calls: int = 20_000) -> dict[str, float]:
    rng = random.Random(766)
    base = datetime(2026, 1, 1, tzinfo=VIETNAM_TZ)
    starts = [base + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60)) for _ in range(1000)]
    calendar = WorkingCalendar()
    calendar.due(starts[0], 1)  # warm the holiday cache

    it = iter(range(10**9))

    def one_due() -> None:
        i = next(it) % len(starts)
        calendar.due(starts[i], 15)

    def one_hours() -> None:
        i = next(it) % len(starts)
        calendar.working_hours_between(starts[i], starts[i] + timedelta(days=40))

    due_runs = [_timed(one_due, calls // 5) for _ in range(5)]
    hours_runs = [_timed(one_hours, calls // 5) for _ in range(5)]
    result = {"due_us": statistics.median(due_runs), "hours_us": statistics.median(hours_runs)}
    print(
        f"calendar.due(15 working days): {result['due_us']:.1f} µs/call "
        f"(target ≤ {TARGET_DUE_US:.0f})"
    )
    print(
        f"calendar.working_hours_between(40 days): {result['hours_us']:.1f} µs/call "
        f"(target ≤ {TARGET_HOURS_US:.0f})"
    )
    return result
