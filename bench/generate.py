"""Generate a province's worth of dossiers for the scale benchmarks (issue #8).

`python -m bench generate --dossiers 2000000 [--seed 1] [--years 1] [--today 2026-11-24]`
against `DATABASE_URL` (PostgreSQL only). It migrates, loads the demo province without
dossiers, then writes N dossiers with their events, step visits, code counters and daily
rollups through `COPY`, and VACUUM ANALYZEs.

The dossiers follow the demo's mix (`tinhso.dossiers.demo`): agencies weighted communes 3:1,
the procedures each agency handles, the channels, the months' load with the rush before Tết
and the slow weeks after it, a quarter of the agencies late ten times as often, and the fates
of `FATES`/`HISTORY_FATES`. Each dossier's life is replayed here the way the services would
write it (same actions, statuses, `seq`, event `data` keys, deadline clock, step visits)
but in plain Python over integer instants, so 2 million take minutes instead of days. A
fate's next step that would fall after "now" is not taken: recent dossiers stay open.

Working time uses the province's `WorkingCalendar` (its working days and office hours),
tabulated once so each addition is a bisection instead of a walk over days.

The rollups are the real `ioc.rollups.event_delta` of each counted event, summed in Python
and copied in; `--verify-rollups` then runs `rollups.rebuild()` and compares (use it on a
small N: the rebuild replays ~3,300 events/s). Deterministic: the same seed, N, years and
`--today` give the same rows.

Not generated: documents (so the digitisation counters are 0), bills and payments, bundles,
citizen accounts (`owner` is empty), alerts, outbox messages and e-ID sign-ins (so
`portal_synced_at` stays empty and `identity_verified` false)."""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import json
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

DAY = 86400
HOUR = 3600
EPOCH = date(1970, 1, 1)
EPOCH_ORDINAL = EPOCH.toordinal()
CHUNK = 20_000  # dossiers per COPY batch (one transaction each)


class _NotYet(Exception):
    """The plan's next step lies after "now": the dossier stays where it is."""


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinhso.settings")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "bench generate writes through PostgreSQL COPY: set DATABASE_URL to a PostgreSQL "
            f"database (postgres://…); got {url or 'nothing (the SQLite default)'}."
        )
    import django

    django.setup()


# --- working time over integer instants -----------------------------------------------------
# An instant is an int: seconds since 1970-01-01 00:00 in the province's local time (Vietnam
# has no daylight saving, so local seconds map one to one onto UTC at +07:00).


class FastCalendar:
    """`WorkingCalendar.add_working_seconds` / `working_seconds_between` over a tabulated
    range of days: W(t) is the working seconds before `t` since the range's start."""

    def __init__(self, calendar: Any, first: date, last: date) -> None:
        self.periods = tuple(calendar.office_hours.period_seconds)
        self.day_seconds = calendar.office_hours.day_seconds
        self.first = (first - EPOCH).days
        n = (last - first).days + 1
        self.working = [calendar.is_working_day(first + timedelta(days=i)) for i in range(n)]
        self.cum: list[int] = []
        total = 0
        for w in self.working:
            self.cum.append(total)
            total += self.day_seconds if w else 0
        self.wdays = [i for i, w in enumerate(self.working) if w]
        self.wcum = [self.cum[i] for i in self.wdays]

    def W(self, t: int) -> int:
        di, pos = divmod(t, DAY)
        i = di - self.first
        base = self.cum[i]
        if not self.working[i]:
            return base
        inside = 0
        for start, end in self.periods:
            if pos <= start:
                break
            inside += min(pos, end) - start
        return base + inside

    def add(self, t: int, seconds: int) -> int:
        """The instant `seconds` of working time after `t` (a period's end when it lands
        exactly there), as `WorkingCalendar.add_working_seconds`."""
        if seconds <= 0:
            return t
        target = self.W(t) + seconds
        k = bisect.bisect_left(self.wcum, target) - 1
        offset = target - self.wcum[k]
        day = self.first + self.wdays[k]
        for start, end in self.periods:
            length = end - start
            if offset <= length:
                return day * DAY + start + offset
            offset -= length
        raise AssertionError("offset beyond the working day")

    def between(self, a: int, b: int) -> int:
        return self.W(b) - self.W(a)


class Stamps:
    """Instants to COPY text (`2026-01-05 08:30:00+07`) and to DjangoJSONEncoder's form."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def day(self, di: int) -> str:
        s = self._days.get(di)
        if s is None:
            s = self._days[di] = date.fromordinal(EPOCH_ORDINAL + di).isoformat()
        return s

    def sql(self, t: int | None) -> str:
        if t is None:
            return "\\N"
        di, pos = divmod(t, DAY)
        return f"{self.day(di)} {pos // 3600:02d}:{pos % 3600 // 60:02d}:{pos % 60:02d}+07"

    def json(self, t: int) -> str:
        di, pos = divmod(t, DAY)
        return f"{self.day(di)}T{pos // 3600:02d}:{pos % 3600 // 60:02d}:{pos % 60:02d}+07:00"


def _text(value: str) -> str:
    """A COPY text-format field."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _nullable(value: int | None) -> str:
    return "\\N" if value is None else str(value)


# --- the reference data ----------------------------------------------------------------------


@dataclass
class StepInfo:
    id: int
    name: str
    role: str
    share: Decimal
    department_code: str


@dataclass
class ProcInfo:
    id: int
    processing_days: Decimal
    budget: int
    result_type: str
    steps: list[StepInfo]
    processing: list[StepInfo]
    department_codes: set[str]
    missing: list[str]


@dataclass
class UserInfo:
    id: int
    label: str  # actor_label(user)
    text: str  # str(user)
    agency_id: int


@dataclass
class AgencyInfo:
    id: int
    code: str
    name: str
    kind: str
    unit_path: str
    unit_name: str
    procedures: list[ProcInfo] = field(default_factory=list)
    desk: list[UserInfo] = field(default_factory=list)
    leaders: list[UserInfo] = field(default_factory=list)
    handling: list[tuple[int, str, str]] = field(default_factory=list)  # dept pk, code, name
    department_leaders: dict[int, list[UserInfo]] = field(default_factory=dict)
    specialists: dict[int, list[UserInfo]] = field(default_factory=dict)
    all_specialists: list[UserInfo] = field(default_factory=list)
    late_factor: float = 1.0


def _reference(rng: random.Random) -> tuple[list[AgencyInfo], dict[int, AgencyInfo], Any]:
    """The demo's agencies, staff and procedures, as `load_demo_dossiers` selects them."""
    from tinhso.core.audit import actor_label
    from tinhso.core.models import Agency, Role
    from tinhso.dossiers import services
    from tinhso.dossiers.demo import _procedures_by_agency, _staff_by_agency

    staff = _staff_by_agency()

    def info(user: Any) -> UserInfo:
        return UserInfo(user.pk, actor_label(user), str(user), user.agency_id)

    agencies = [
        a
        for a in Agency.objects.filter(is_active=True).select_related("unit").order_by("code")
        if staff[a.pk].desk and staff[a.pk].leaders and staff[a.pk].handling_departments()
    ]
    procedures = _procedures_by_agency(agencies)
    agencies = [a for a in agencies if a.pk in procedures]
    calendar = services.calendar_for_agency(agencies[0])
    proc_cache: dict[int, ProcInfo] = {}

    def proc_info(p: Any) -> ProcInfo:
        if p.pk not in proc_cache:
            steps = [
                StepInfo(s.pk, s.name, s.role, Decimal(s.share_percent), s.department_code)
                for s in sorted(p.workflow_steps.all(), key=lambda s: s.position)
            ]
            processing = [s for s in steps if s.role != Role.DESK_OFFICER] or steps
            proc_cache[p.pk] = ProcInfo(
                p.pk,
                Decimal(p.processing_days),
                int(Decimal(p.processing_days) * calendar.office_hours.day_seconds),
                p.result_type,
                steps,
                processing,
                {s.department_code for s in steps if s.department_code},
                [r.name for r in p.documents.all()][:2] or ["Tờ khai"],
            )
        return proc_cache[p.pk]

    result = []
    for a in agencies:
        s = staff[a.pk]
        entry = AgencyInfo(a.pk, a.code, a.name, a.kind, a.unit.path, a.unit.name)
        entry.procedures = [proc_info(p) for p in procedures[a.pk]]
        entry.desk = [info(u) for u in s.desk]
        entry.leaders = [info(u) for u in s.leaders]
        entry.handling = [(d.pk, d.code, d.name) for d in s.handling_departments()]
        entry.department_leaders = {
            k: [info(u) for u in v] for k, v in s.department_leaders.items()
        }
        entry.specialists = {k: [info(u) for u in v] for k, v in s.specialists.items()}
        entry.all_specialists = [u for v in entry.specialists.values() for u in v]
        # As the demo's history: a quarter of the agencies are late ten times as often.
        entry.late_factor = 3.0 if rng.random() < 0.25 else 0.35
        result.append(entry)
    return result, {a.id: a for a in result}, calendar


# --- one dossier's life ----------------------------------------------------------------------


class Sim:
    """The state of one dossier as the services would leave it, and the rows its life writes."""

    __slots__ = (
        "agency",
        "apology_count",
        "assignee",
        "budget",
        "cal",
        "channel",
        "consumed",
        "department",
        "due_at",
        "ended_at",
        "events",
        "open_visit",
        "original_due_at",
        "outcome",
        "proc",
        "processed_at",
        "received_at",
        "request_at",
        "result_summary",
        "resume_status",
        "resumed_at",
        "return_method",
        "returned_at",
        "running",
        "status",
        "step",
        "step_due_at",
        "supplement_count",
        "supplement_seconds",
        "timeliness",
        "transfer_agency",
        "visits",
    )  # fmt: skip

    def __init__(self, cal: FastCalendar, agency: AgencyInfo, proc: ProcInfo, channel: str):
        self.cal = cal
        self.agency, self.proc, self.channel = agency, proc, channel
        self.status = "submitted"
        self.resume_status = ""
        self.received_at = self.resumed_at = self.due_at = self.original_due_at = None
        self.budget = self.consumed = 0
        self.running = False
        self.apology_count = self.supplement_count = self.supplement_seconds = 0
        self.step: StepInfo | None = None
        self.step_due_at = None
        self.department: tuple[int, str, str] | None = None
        self.assignee: UserInfo | None = None
        self.outcome = self.result_summary = self.return_method = self.timeliness = ""
        self.processed_at = self.returned_at = self.ended_at = None
        self.transfer_agency: AgencyInfo | None = None
        # (at, actor, action, from, to, reason, data)
        self.events: list[tuple[int, UserInfo | None, str, str, str, str, dict]] = []
        self.visits: list[list] = []  # [step, agency_id, dept, assignee, entered, due, left]
        self.open_visit: list | None = None
        self.request_at = 0

    # -- clock and steps (services._set_clock, deadlines.clock_*, services._enter_step) ---------

    def _stop(self, t: int) -> None:
        if self.running:
            self.consumed += max(0, self.cal.between(self.resumed_at, t))
            self.running, self.resumed_at = False, None

    def _resume(self, t: int) -> None:
        if not self.running:
            remaining = self.budget - self.consumed
            if remaining > 0:
                self.due_at = self.cal.add(t, remaining)
            self.running, self.resumed_at = True, t

    def _enter(self, t: int, step: StepInfo | None, data: dict, assignee: UserInfo | None = None):
        if self.open_visit is not None:
            self.open_visit[6] = t
            self.open_visit = None
        self.step, self.step_due_at = step, None
        if step is None:
            return
        if self.running:
            self.step_due_at = self.cal.add(t, int(self.budget * step.share / 100))
        who = assignee or self.assignee
        visit = [
            step.id,
            (self.transfer_agency or self.agency).id,
            self.department[0] if self.department else None,
            who.id if who else None,
            t,
            self.step_due_at,
            None,
        ]
        self.visits.append(visit)
        self.open_visit = visit
        data["step"] = step.name

    def _event(self, t: int, actor: UserInfo | None, action: str, to: str, reason="", data=None):
        self.events.append((t, actor, action, self.status, to, reason, data or {}))
        self.status = to

    def _classify(self, ended: int) -> str:
        """deadlines.classify_done with TINHSO_LATE_AFTER_SECOND_SUPPLEMENT on (the default)."""
        due = self.due_at
        if due is None:
            return "on_time"
        if self.apology_count > 0 or ended > due:
            return "late"
        if self.supplement_count > 1:
            return "late"
        if ended // DAY < due // DAY:
            return "early"
        return "on_time"

    # -- transitions (as in dossiers/services.py) ---------------------------------------------

    def submit(self, t: int, actor: UserInfo | None, documents: int) -> None:
        data = {"channel": self.channel, "documents": documents}
        self.events.append((t, actor, "submit", "", "submitted", "", data))

    def receive(self, t: int, actor: UserInfo) -> None:
        self.received_at = t
        self.budget, self.consumed, self.running, self.resumed_at = self.proc.budget, 0, True, t
        self.due_at = self.cal.add(t, self.budget)
        self.original_due_at = self.due_at
        data: dict = {}
        steps = self.proc.steps
        self._enter(t, steps[0] if steps else None, data)
        data["due_at"] = self.due_at
        self._event(t, actor, "receive", "received", "", data)

    def refuse(self, t: int, actor: UserInfo, reason: str) -> None:
        self.ended_at = t
        self._event(t, actor, "refuse", "refused", reason)

    def request_supplement(self, t: int, actor: UserInfo, reason: str, missing: list[str]):
        self.resume_status = self.status
        self.supplement_count += 1
        self._stop(t)
        self.request_at = t
        data = {"missing": missing, "requested_at": t}
        self._event(t, actor, "request_supplement", "supplement_requested", reason, data)

    def supplement(self, t: int, actor: UserInfo, note: str) -> None:
        back_to = self.resume_status or "submitted"
        data: dict = {}
        if back_to in ("received", "in_processing", "transferred"):
            self.supplement_seconds += max(0, self.cal.between(self.request_at, t))
            self._resume(t)
            data["due_at"] = self.due_at
        self.resume_status = ""
        data["documents"] = 0
        self._event(t, actor, "supplement", back_to, note, data)

    def assign(self, t: int, actor: UserInfo, department, assignee: UserInfo) -> None:
        self.department, self.assignee = department, assignee
        data = {"department": department[2], "assignee": assignee.text}
        if self.status == "received":
            steps = self.proc.processing
            self._enter(t, steps[0] if steps else None, data, assignee)
        elif self.open_visit is not None:
            self.open_visit[2], self.open_visit[3] = department[0], assignee.id
        self._event(t, actor, "assign", "in_processing", "", data)

    def forward(self, t: int, actor: UserInfo, assignee: UserInfo, step: StepInfo) -> None:
        self.assignee = assignee
        data = {"assignee": assignee.text}
        self._enter(t, step, data, assignee)
        self._event(t, actor, "forward", "in_processing", "", data)

    def transfer(self, t: int, actor: UserInfo, to: AgencyInfo, reason: str) -> None:
        self.transfer_agency = to
        data = {"to_agency": to.code, "to_agency_name": to.name}
        self._event(t, actor, "transfer", "transferred", reason, data)

    def transfer_return(self, t: int, actor: UserInfo, note: str) -> None:
        data = {"from_agency": self.transfer_agency.code if self.transfer_agency else ""}
        self.transfer_agency = None
        self._event(t, actor, "transfer_return", "in_processing", note, data)

    def suspend(self, t: int, actor: UserInfo, reason: str) -> None:
        self.resume_status = self.status
        self._stop(t)
        self._event(t, actor, "suspend", "suspended", reason)

    def apologize(self, t: int, actor: UserInfo, new_due: int, reason: str) -> None:
        previous = self.due_at
        self.budget += max(0, self.cal.between(previous, new_due))
        self.due_at = new_due
        self.apology_count += 1
        data = {"previous_due_at": previous, "due_at": new_due}
        self._event(t, actor, "apologize", self.status, reason, data)

    def approve(self, t: int, actor: UserInfo) -> None:
        self.outcome, self.processed_at = "approved", t
        self.result_summary = self.proc.result_type
        data = {"result_summary": self.result_summary}
        self._stop(t)
        self._enter(t, None, data)
        self._event(t, actor, "approve", "approved", "", data)

    def reject(self, t: int, actor: UserInfo, reason: str) -> None:
        self.outcome, self.processed_at, self.result_summary = "rejected", t, reason
        self._stop(t)
        self._enter(t, None, {})
        self._event(t, actor, "reject", "rejected", reason)

    def return_result(self, t: int, actor: UserInfo, method: str) -> None:
        self.returned_at, self.return_method = t, method
        self.ended_at = self.processed_at or t
        self.timeliness = self._classify(self.ended_at)
        data = {"method": method, "timeliness": self.timeliness}
        self._event(t, actor, "return_result", "done", "", data)

    def withdraw(self, t: int, actor: UserInfo, reason: str) -> None:
        self._stop(t)
        self.ended_at = t
        if self.received_at is not None:
            self.timeliness = self._classify(t)
        self._enter(t, None, {})
        self._event(t, actor, "withdraw", "withdrawn", reason)


class Life:
    """The demo's `_Runner._process`, step for step, over a `Sim`."""

    def __init__(self, rng: random.Random, cal: FastCalendar, now: int, agencies: list[AgencyInfo]):
        self.rng, self.cal, self.now, self.agencies = rng, cal, now, agencies
        self.targets: dict[bool, list[AgencyInfo]] = {}
        for commune in (True, False):
            kinds = (
                ("police", "provincial_department")
                if commune
                else ("commune_committee", "provincial_department")
            )
            self.targets[commune] = [a for a in agencies if a.kind in kinds and a.all_specialists]

    def later(self, t: int, low: float, high: float) -> int:
        when = self.cal.add(t, max(60, int(self.rng.uniform(low, high) * HOUR)))
        if when >= self.now:
            raise _NotYet
        return when

    def at(self, when: int) -> int:
        if when >= self.now:
            raise _NotYet
        return when

    def shortly_before(self, due: int, after: int, hours: float = 1) -> int:
        span = self.cal.between(after, due)
        back = min(int(self.rng.uniform(0.2, hours) * HOUR), max(span - 60, 0))
        return self.cal.add(after, max(span - back, 60))

    def run(self, d: Sim, start: int, fate: str, texts: Any) -> None:
        desk = self.rng.choice(d.agency.desk)
        documents = len(d.proc.missing)
        if d.channel == "desk":
            d.submit(start, desk, documents)
            d.receive(start, desk)
        else:
            d.submit(start, None, documents)
        with contextlib.suppress(_NotYet):
            self._process(d, start, fate, desk, texts)

    def _process(self, d: Sim, t: int, fate: str, desk: UserInfo, texts: Any) -> None:
        rng, a, cal = self.rng, d.agency, self.cal
        if d.channel != "desk":
            if fate == "to_receive":
                return
            t = self.later(t, 0.3, 6)
            if fate == "refused":
                d.refuse(t, desk, rng.choice(texts.REFUSAL_REASONS))
                return
            d.receive(t, desk)
        if fate == "received":
            return
        if fate == "withdrawn" and rng.random() < 0.5:
            t = self.later(t, 1, 8)
            d.withdraw(t, desk, rng.choice(texts.WITHDRAW_REASONS))
            return
        preferred = [h for h in a.handling if h[1] in d.proc.department_codes]
        department = rng.choice(preferred or a.handling)
        specialist = rng.choice(a.specialists[department[0]])
        dispatcher = rng.choice(a.department_leaders.get(department[0]) or a.leaders)
        t = self.later(t, 0.5, 4)
        d.assign(t, dispatcher, department, specialist)
        steps = d.proc.processing
        if fate in ("stuck", "suspended"):
            if fate == "suspended":
                t = self.later(t, 2, 12)
                d.suspend(t, rng.choice(a.leaders), rng.choice(texts.SUSPEND_REASONS))
            return
        if fate in ("supplement_waiting", "supplemented"):
            t = self.later(t, 1, 10)
            missing = d.proc.missing
            d.request_supplement(
                t,
                specialist,
                rng.choice(texts.SUPPLEMENT_REASONS),
                rng.sample(missing, k=rng.randint(1, len(missing))),
            )
            if fate == "supplement_waiting":
                return
            t = self.later(t, 6, 30)
            d.supplement(t, desk, "Công dân đã nộp bổ sung tại Bộ phận Một cửa.")
        if fate in ("transferred", "transfer_done"):
            t = self.later(t, 1, 8)
            targets = [x for x in self.targets[a.kind == "commune_committee"] if x.id != a.id]
            target = rng.choice(targets)
            d.transfer(t, specialist, target, rng.choice(texts.TRANSFER_REASONS))
            if fate == "transferred":
                return
            returner = rng.choice(target.all_specialists)
            t = self.later(t, 4, 16)
            d.transfer_return(t, returner, "Đã có ý kiến, chuyển trả hồ sơ.")
        if fate == "withdrawn":
            t = self.later(t, 2, 12)
            d.withdraw(t, desk, rng.choice(texts.WITHDRAW_REASONS))
            return
        received, budget = d.received_at, d.budget
        if fate in ("early", "supplemented", "transfer_done", "rejected", "approved"):
            end = cal.add(max(t, received), int(max(budget, HOUR) * rng.uniform(0.15, 0.5)))
        elif fate == "on_time":
            end = self.shortly_before(d.due_at, t)
        else:  # late, apology
            end = cal.add(d.due_at, int(rng.uniform(2, 24) * HOUR))
        if fate == "processing":
            stop = rng.randrange(len(steps)) if steps else 0
            end = cal.add(t, int(max(budget, HOUR) * 0.7))
            for i in range(1, stop + 1):
                t = self._forward(d, steps, i, t, end, department)
            return
        for i in range(1, len(steps)):
            t = self._forward(d, steps, i, t, end, department)
        if fate == "apology":
            due = d.due_at
            when = self.shortly_before(due, t, hours=3)
            if t < when < due:
                t = self.at(when)
                new_due = cal.add(due, 3 * 8 * HOUR)
                d.apologize(t, rng.choice(a.leaders), new_due, rng.choice(texts.APOLOGY_REASONS))
        last_role = steps[-1].role if steps else "agency_leader"
        if last_role == "department_leader" and a.department_leaders.get(department[0]):
            approver = rng.choice(a.department_leaders[department[0]])
        else:
            approver = rng.choice(a.leaders or a.department_leaders[department[0]])
        t = self.at(max(end, cal.add(t, 600)))
        if fate == "rejected":
            d.reject(t, approver, rng.choice(texts.REJECT_REASONS))
        else:
            d.approve(t, approver)
        if fate == "approved":
            return
        t = self.later(t, 0.5, 10)
        d.return_result(t, desk, "online" if d.channel == "online" else "desk")

    def _forward(self, d: Sim, steps, i: int, t: int, end: int, department) -> int:
        span = max(self.cal.between(t, end), 600)
        when = self.at(self.cal.add(t, max(60, span // (len(steps) - i + 1))))
        step, a, rng = steps[i], d.agency, self.rng
        if step.role == "agency_leader" and a.leaders:
            holder = rng.choice(a.leaders)
        elif step.role == "department_leader" and a.department_leaders.get(department[0]):
            holder = rng.choice(a.department_leaders[department[0]])
        else:
            holder = rng.choice(a.specialists[department[0]])
        d.forward(when, d.assignee or holder, holder, step)
        return when


# --- the run -----------------------------------------------------------------------------------


DOSSIER_COLUMNS = (
    "id, code, unit_path, channel, status, resume_status, version, applicant_kind, "
    "applicant_name, applicant_id_number, applicant_phone, applicant_email, applicant_address, "
    "note, submitted_at, received_at, budget_seconds, consumed_seconds, clock_running, "
    "clock_resumed_at, due_at, original_due_at, apology_count, supplement_count, "
    "supplement_seconds, step_due_at, outcome, result_summary, processed_at, returned_at, "
    "return_method, ended_at, timeliness, agency_id, assignee_id, bundle_id, current_step_id, "
    "department_id, owner_id, procedure_id, transfer_agency_id"
)
EVENT_COLUMNS = (
    "id, seq, at, actor_label, action, from_status, to_status, reason, data, actor_id, "
    "agency_id, dossier_id"
)
VISIT_COLUMNS = (
    "id, entered_at, due_at, left_at, agency_id, assignee_id, department_id, dossier_id, step_id"
)
JSON_INSTANTS = frozenset({"due_at", "previous_due_at", "requested_at"})


def _day_counts(n: int, weights: list[float]) -> list[int]:
    """`n` split over days in proportion to `weights` (largest remainder: exact, no rng)."""
    total = sum(weights)
    raw = [n * w / total for w in weights]
    counts = [int(r) for r in raw]
    short = n - sum(counts)
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[:short]:
        counts[i] += 1
    return counts


def generate(
    *,
    dossiers: int,
    seed: int = 1,
    years: float = 1,
    today: date | None = None,
    verify_rollups: bool = False,
) -> dict[str, Any]:
    _setup_django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from tinhso.core.demo import GIVEN, MIDDLE, SURNAMES, demo_load
    from tinhso.dossiers import demo as texts
    from tinhso.dossiers.models import Dossier
    from tinhso.ioc.models import COUNTERS, GRAIN
    from tinhso.ioc.rollups import (
        COUNTED_ACTIONS,
        TERMINAL_ACTIONS,
        DocumentFacts,
        EventFacts,
        event_delta,
        fill_agency_rollups,
    )

    phases: dict[str, float] = {}
    written: dict[str, int] = defaultdict(int)
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    demo_load(dossiers=False)
    phases["migrate + demo province"] = time.perf_counter() - t0
    print(f"migrate + demo province: {phases['migrate + demo province']:.1f} s", flush=True)
    if Dossier.objects.exists():
        sys.exit("This database already has dossiers: generate into a fresh one (createdb).")

    rng = random.Random(seed)
    agencies, by_id, calendar = _reference(rng)
    today = today or date.today()
    history_days = round(365 * years)
    first_day = today - timedelta(days=history_days)
    cal = FastCalendar(calendar, first_day - timedelta(days=7), today + timedelta(days=800))
    stamps = Stamps()
    now = (today - EPOCH).days * DAY + 12 * HOUR  # "now" is noon of `today`, local time
    life = Life(rng, cal, now, agencies)
    cum_agency = list(
        itertools.accumulate(3 if a.kind == "commune_committee" else 1 for a in agencies)
    )

    days = [first_day + timedelta(days=i) for i in range(history_days + 1)]
    tet = texts._tet_days({d.year for d in days} | {today.year + 1})
    day_weights = [texts._day_load(d, tet) if calendar.is_working_day(d) else 0.0 for d in days]
    per_day = _day_counts(dossiers, day_weights)
    # The demo's fates: the still-open ones only in the last days, "stuck" after a week.
    recent_fates = tuple((f, w) for f, w in texts.FATES if f not in texts.RECENT_FATES)
    settled_fates = tuple((f, w) for f, w in recent_fates if f != "stuck")
    periods = cal.periods

    def pick_fate(back: int, agency: AgencyInfo) -> str:
        if back <= 4:
            choices = texts.FATES
        elif back < 8:
            choices = settled_fates
        elif back <= 60:
            choices = recent_fates
        else:
            choices = texts.HISTORY_FATES
        return texts._weighted(rng, choices, agency.late_factor)

    connection.ensure_connection()
    raw = connection.connection
    ids = {"dossier": 0, "event": 0, "visit": 0}
    counters: list[str] = []
    rollup_days: dict[int, dict[tuple, list[int]]] = defaultdict(dict)
    counter_index = {name: i for i, name in enumerate(COUNTERS)}
    no_documents = DocumentFacts()
    copy_seconds = 0.0
    buf_d: list[str] = []
    buf_e: list[str] = []
    buf_v: list[str] = []
    buf_r: list[str] = []
    fate_counts: dict[str, int] = defaultdict(int)
    status_counts: dict[str, int] = defaultdict(int)

    def flush() -> None:
        nonlocal copy_seconds
        start = time.perf_counter()
        with raw.cursor() as cur:
            for table, columns, buf in (
                ("dossiers_dossier", DOSSIER_COLUMNS, buf_d),
                ("dossiers_dossierevent", EVENT_COLUMNS, buf_e),
                ("dossiers_stepvisit", VISIT_COLUMNS, buf_v),
                ("ioc_dailyrollup", ", ".join(GRAIN + COUNTERS), buf_r),
            ):
                if buf:
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        copy.write("".join(buf))
                    written[table] += len(buf)
                    buf.clear()
        raw.commit()
        copy_seconds += time.perf_counter() - start

    def flush_rollups(before_day: int) -> None:
        # Dossiers come in submission order and no event precedes its submission, so the
        # rollup days before the current submission day are complete.
        for di in sorted(k for k in rollup_days if k < before_day):
            day_text = stamps.day(di)
            for key, values in rollup_days.pop(di).items():
                buf_r.append(
                    f"{day_text}\t{key[0]}\t{key[1]}\t{key[2]}\t{key[3]}\t{key[4]}\t"
                    + "\t".join(map(str, values))
                    + "\n"
                )

    def count(event_action: str, at: int, d: Sim) -> None:
        """The event's rollup delta by `ioc.rollups.event_delta`, as `facts_for` builds it."""
        di = at // DAY
        base: dict[str, Any] = {
            "action": event_action,
            "day": date.fromordinal(EPOCH_ORDINAL + di),
            "agency_id": d.agency.id,
            "procedure_id": d.proc.id,
            "channel": d.channel,
        }
        if event_action in TERMINAL_ACTIONS:
            base.update(
                department_id=d.department[0] if d.department else None,
                official_id=d.assignee.id if d.assignee else None,
                timeliness=d.timeliness,
                outcome=d.outcome,
                consumed_seconds=d.consumed,
                was_received=d.received_at is not None,
                supplement_count=d.supplement_count,
                has_owner=False,
                documents=no_documents,
            )
        result = event_delta(EventFacts(**base))
        if result is None:
            return
        key, delta = result
        row = rollup_days[di].get(key[1:])
        if row is None:
            row = rollup_days[di][key[1:]] = [0] * len(COUNTERS)
        for name, value in delta.items():
            row[counter_index[name]] += value

    t1 = time.perf_counter()
    print(
        f"generating {dossiers:,} dossiers over {history_days} days to {today} (seed {seed})",
        flush=True,
    )
    generated = 0
    sql, js = stamps.sql, stamps.json
    connection.set_autocommit(False)
    try:
        for day, n in zip(days, per_day, strict=True):
            if n == 0:
                continue
            di = (day - EPOCH).days
            flush_rollups(di)
            back = (today - day).days
            plans = []
            for _ in range(n):
                a = agencies[bisect.bisect_right(cum_agency, rng.random() * cum_agency[-1])]
                fate = pick_fate(back, a)
                proc = rng.choice(a.procedures)
                if fate in ("to_receive", "refused"):
                    channel = rng.choice(("online", "online", "post"))
                else:
                    channel = rng.choice(("desk", "online", "online"))
                p_start, p_end = rng.choice(periods)
                start = di * DAY + rng.randrange(p_start, p_end - 15 * 60, 60)
                plans.append((start, a.id, fate, proc, channel, rng.getrandbits(64)))
            plans.sort(key=lambda p: (p[0], p[1]))
            seq_by_agency: dict[int, int] = defaultdict(int)
            yymmdd = day.strftime("%y%m%d")
            for start, agency_id, fate, proc, channel, person in plans:
                if start >= now:
                    continue
                a = by_id[agency_id]
                seq_by_agency[agency_id] += 1
                code = f"{a.code}-{yymmdd}-{seq_by_agency[agency_id]:04d}"
                prng = random.Random(person)
                born = prng.randint(1950, 2006)
                century_sex = (0 if born < 2000 else 2) + prng.randint(0, 1)
                name = f"{prng.choice(SURNAMES)} {prng.choice(MIDDLE)} {prng.choice(GIVEN)}"
                id_number = f"019{century_sex}{born % 100:02d}{prng.randrange(10**6):06d}"
                phone = f"09{prng.randrange(10**8):08d}"
                address = f"{prng.choice(texts.STREETS)}, {a.unit_name}, tỉnh Thái Nguyên"
                d = Sim(cal, a, proc, channel)
                life.run(d, start, fate, texts)
                ids["dossier"] += 1
                did = ids["dossier"]
                fate_counts[fate] += 1
                status_counts[d.status] += 1
                step = d.step
                row = (
                    str(did), code, a.unit_path, channel, d.status, d.resume_status,
                    str(len(d.events)), "citizen", _text(name), id_number, phone, "",
                    _text(address), "", sql(start), sql(d.received_at), str(d.budget),
                    str(d.consumed), "t" if d.running else "f", sql(d.resumed_at),
                    sql(d.due_at), sql(d.original_due_at), str(d.apology_count),
                    str(d.supplement_count), str(d.supplement_seconds), sql(d.step_due_at),
                    d.outcome, _text(d.result_summary), sql(d.processed_at),
                    sql(d.returned_at), d.return_method, sql(d.ended_at), d.timeliness,
                    str(a.id), _nullable(d.assignee.id if d.assignee else None), "\\N",
                    _nullable(step.id if step else None),
                    _nullable(d.department[0] if d.department else None), "\\N", str(proc.id),
                    _nullable(d.transfer_agency.id if d.transfer_agency else None),
                )  # fmt: skip
                buf_d.append("\t".join(row) + "\n")
                for seq, (at, actor, action, from_s, to_s, reason, data) in enumerate(
                    d.events, start=1
                ):
                    ids["event"] += 1
                    if data:
                        data = {k: js(v) if k in JSON_INSTANTS else v for k, v in data.items()}
                    row = (
                        str(ids["event"]), str(seq), sql(at),
                        _text(actor.label) if actor else "system", action, from_s, to_s,
                        _text(reason), _text(json.dumps(data, ensure_ascii=False)),
                        str(actor.id) if actor else "\\N",
                        str(actor.agency_id if actor else a.id), str(did),
                    )  # fmt: skip
                    buf_e.append("\t".join(row) + "\n")
                    if action in COUNTED_ACTIONS:
                        count(action, at, d)
                for v in d.visits:
                    ids["visit"] += 1
                    buf_v.append(
                        f"{ids['visit']}\t{sql(v[4])}\t{sql(v[5])}\t{sql(v[6])}\t{v[1]}\t"
                        f"{_nullable(v[3])}\t{_nullable(v[2])}\t{did}\t{v[0]}\n"
                    )
                generated += 1
                if len(buf_d) >= CHUNK:
                    flush()
                    elapsed = time.perf_counter() - t1
                    print(
                        f"  {generated:>10,} dossiers, {ids['event']:>11,} events, "
                        f"{elapsed:7.1f} s ({generated / elapsed:,.0f}/s; COPY "
                        f"{copy_seconds:.1f} s) at {day}",
                        flush=True,
                    )
            for agency_id, last in seq_by_agency.items():
                counters.append(f"{agency_id}\t{day.isoformat()}\t{last}\n")
        flush_rollups(10**9)
        flush()
        phases["dossiers, events, step visits, rollups (generate + COPY)"] = (
            time.perf_counter() - t1
        )
        phases["  of which COPY (server side: parse, indexes, FK checks)"] = copy_seconds

        t2 = time.perf_counter()
        with raw.cursor() as cur:
            with cur.copy(
                "COPY dossiers_dossiercodecounter (agency_id, day, last) FROM STDIN"
            ) as copy:
                copy.write("".join(counters))
            written["dossiers_dossiercodecounter"] = len(counters)
            for table in (
                "dossiers_dossier",
                "dossiers_dossierevent",
                "dossiers_stepvisit",
                "ioc_dailyrollup",
            ):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table}), 1))"
                )
        raw.commit()
        phases["code counters + sequences"] = time.perf_counter() - t2
    finally:
        connection.set_autocommit(True)

    # The agency rollups (day, agency, channel) are the sums of the copied rollups: one
    # INSERT … SELECT … GROUP BY, as `rollups.rebuild()` and the migration that added them do.
    t_agency = time.perf_counter()
    with transaction.atomic():
        written["ioc_agencydailyrollup"] = fill_agency_rollups()
    phases["agency rollups (INSERT … SELECT … GROUP BY)"] = time.perf_counter() - t_agency

    t3 = time.perf_counter()
    with connection.cursor() as cur:
        for table in (
            "dossiers_dossier",
            "dossiers_dossierevent",
            "dossiers_stepvisit",
            "ioc_dailyrollup",
            "ioc_agencydailyrollup",
            "dossiers_dossiercodecounter",
        ):
            cur.execute(f"VACUUM (ANALYZE) {table}")
    phases["VACUUM ANALYZE"] = time.perf_counter() - t3
    phases["total"] = time.perf_counter() - t0

    print("\nrows written:")
    for table, n in written.items():
        print(f"  {table:32} {n:>12,}")
    print("final statuses:", dict(sorted(status_counts.items(), key=lambda x: -x[1])))
    print("fates:", dict(sorted(fate_counts.items(), key=lambda x: -x[1])))
    print("phases:")
    for name, seconds in phases.items():
        print(f"  {name:58} {seconds:8.1f} s")

    result: dict[str, Any] = {"phases": phases, "rows": dict(written)}
    if verify_rollups:
        result["rollups_equal"] = _verify_rollups()
    return result


def _verify_rollups() -> bool:
    """Snapshot the generated rollups, run `rollups.rebuild()` (what `tinhso ioc rebuild`
    does), and compare row by row."""
    from tinhso.ioc import rollups
    from tinhso.ioc.models import COUNTERS, GRAIN, DailyRollup

    def snapshot() -> dict[tuple, tuple]:
        return {
            row[: len(GRAIN)]: row[len(GRAIN) :]
            for row in DailyRollup.objects.values_list(*GRAIN, *COUNTERS)
        }

    before = snapshot()
    start = time.perf_counter()
    result = rollups.rebuild()
    seconds = time.perf_counter() - start
    after = snapshot()
    print(
        f"\nrollups.rebuild(): {result.events:,} events -> {result.rows:,} rows in {seconds:.1f} s"
    )
    if before == after:
        print(f"rollups equal to the rebuild: yes ({len(before):,} rows)")
        return True
    missing = set(after) - set(before)
    extra = set(before) - set(after)
    differ = [k for k in set(before) & set(after) if before[k] != after[k]]
    print(f"rollups DIFFER: {len(missing)} missing, {len(extra)} extra, {len(differ)} differ")
    for k in [*list(missing)[:3], *list(extra)[:3], *differ[:3]]:
        print("  ", k, before.get(k), after.get(k))
    return False


def run(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench generate")
    parser.add_argument("--dossiers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--years", type=float, default=1)
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the last day (default: today); 'now' is its noon, local time",
    )
    parser.add_argument(
        "--verify-rollups",
        action="store_true",
        help="then run rollups.rebuild() and compare (small N)",
    )
    args = parser.parse_args(argv)
    return generate(
        dossiers=args.dossiers,
        seed=args.seed,
        years=args.years,
        today=args.today,
        verify_rollups=args.verify_rollups,
    )
