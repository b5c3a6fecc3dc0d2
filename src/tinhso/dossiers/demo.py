"""Demo dossiers: about three hundred dossiers over the last sixty days at the demo agencies,
for the procedures of the catalog present in the database, in the mix of states a one-stop
desk really has (waiting at the desk, in processing at every step, transferred, waiting for
a supplement, approved, done early, on time or late, refused, withdrawn, a few apologies).

Everything goes through the dossier services with backdated `at=` instants in office hours,
so the demo has the same events, codes and deadlines as real use. The plan comes from
`random.Random(seed)`, so the same catalog and agencies give the same dossiers; loading
twice changes nothing (nothing is created once any dossier exists).

Before those sixty days, an optional year of history (`history_count` dossiers over
`history_days`) gives the operations centre something to chart: only finished fates, more
dossiers in the busy months (year end, school enrolment, the weeks before Tết) and few right
after Tết, and a quarter of the agencies late about ten times as often as the others."""

from __future__ import annotations

import contextlib
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import holidays
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from tinhso.catalog.models import Procedure, WorkflowStep
from tinhso.core.demo import GIVEN, MIDDLE, SURNAMES
from tinhso.core.errors import DomainError
from tinhso.core.models import Agency, AgencyKind, Department, Role, User, UserKind
from tinhso.core.working_calendar import VIETNAM_TZ, WorkingCalendar
from tinhso.dossiers import services
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.services import Applicant, SubmittedDocument
from tinhso.dossiers.states import Channel

logger = logging.getLogger(__name__)

DEFAULT_COUNT = 300
DEFAULT_DAYS = 60
SEED = 20250701
HOUR = 3600
#: Digitisation (Nghị định 45/2020): a dossier submitted online arrives as files; one handed in
#: on paper is scanned at the desk with this chance; a result is issued electronically with the
#: other. Drawn from their own random stream, so the mix of fates stays the same.
SCANNED_AT_DESK = 0.6
ELECTRONIC_RESULT = 0.7
#: What a demo file holds: the smallest PDF header (the demo stores no real scans).
DEMO_FILE = b"%PDF-1.4\n% Tinh So demo scan\n%%EOF\n"

#: What becomes of a dossier, with its weight in the mix. Dossiers submitted in the last few
#: days stop wherever "now" catches them, so recent ones are still open whatever their fate.
FATES: tuple[tuple[str, int], ...] = (
    ("early", 80),
    ("on_time", 34),
    ("late", 16),
    ("apology", 8),
    ("supplemented", 14),
    ("transfer_done", 10),
    ("rejected", 8),
    ("approved", 10),
    ("processing", 36),
    ("stuck", 12),
    ("received", 10),
    ("to_receive", 16),
    ("supplement_waiting", 10),
    ("transferred", 8),
    ("suspended", 4),
    ("refused", 12),
    ("withdrawn", 10),
)
#: The fates of the year of history: every one of them has finished.
HISTORY_FATES: tuple[tuple[str, int], ...] = tuple(
    (fate, weight)
    for fate, weight in FATES
    if fate
    in {
        "early",
        "on_time",
        "late",
        "apology",
        "supplemented",
        "transfer_done",
        "rejected",
        "refused",
        "withdrawn",
    }
)
LATE_FATES = frozenset({"late", "apology"})
#: How busy each month is, relative to an average month (1 = January).
MONTH_LOAD = {
    1: 1.2,
    2: 0.7,
    3: 1.1,
    4: 1.0,
    5: 1.0,
    6: 0.95,
    7: 1.05,
    8: 1.2,
    9: 1.1,
    10: 1.0,
    11: 1.0,
    12: 1.25,
}

#: Fates whose dossiers are still open at the end: they start in the last days.
RECENT_FATES = {"processing", "received", "to_receive", "supplement_waiting", "transferred"}

REFUSAL_REASONS = (
    "Thủ tục không thuộc thẩm quyền giải quyết của cơ quan.",
    "Hồ sơ nộp trực tuyến thiếu tờ khai có chữ ký của người yêu cầu.",
    "Giấy tờ tải lên không đọc được, đề nghị nộp lại bản chụp rõ nét.",
)
SUPPLEMENT_REASONS = (
    "Hồ sơ chưa đầy đủ thành phần theo quy định.",
    "Thông tin trên tờ khai chưa khớp với giấy tờ tùy thân.",
    "Cần bổ sung bản sao có chứng thực.",
)
REJECT_REASONS = (
    "Người yêu cầu không đủ điều kiện theo quy định.",
    "Kết quả xác minh không khớp với thông tin kê khai.",
)
TRANSFER_REASONS = (
    "Chuyển liên thông để xác minh thông tin cư trú.",
    "Xin ý kiến chuyên môn của cơ quan cấp tỉnh.",
)
SUSPEND_REASONS = ("Tạm dừng chờ kết quả xác minh của cơ quan có liên quan.",)
APOLOGY_REASONS = (
    "Hồ sơ cần xác minh thêm tại cơ quan khác nên chưa kịp trả kết quả đúng hẹn.",
    "Khối lượng hồ sơ tăng đột biến, cơ quan xin lỗi và hẹn lại ngày trả kết quả.",
)
WITHDRAW_REASONS = (
    "Công dân có đơn xin rút hồ sơ.",
    "Người nộp không còn nhu cầu giải quyết.",
)
STREETS = ("Tổ 3", "Tổ 7", "Tổ 12", "Xóm Đồng Tâm", "Xóm Làng Mới", "Thôn Bản Pjạc", "Tổ 21")


class _NotYet(Exception):
    """The next step of the plan lies in the future: the dossier stays where it is."""


@dataclass
class _Staff:
    """The officials of one demo agency, by role and department."""

    desk: list[User] = field(default_factory=list)
    leaders: list[User] = field(default_factory=list)
    departments: dict[int, Department] = field(default_factory=dict)
    department_leaders: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))
    specialists: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))

    def handling_departments(self) -> list[Department]:
        return [
            d
            for d in self.departments.values()
            if not d.is_one_stop_desk and self.specialists.get(d.pk)
        ]


@dataclass(frozen=True)
class _Plan:
    start: datetime
    fate: str
    agency: Agency
    procedure: Procedure
    channel: str
    applicant: Applicant


def _staff_by_agency() -> dict[int, _Staff]:
    staff: dict[int, _Staff] = defaultdict(_Staff)
    for department in Department.objects.select_related("agency").order_by("pk"):
        staff[department.agency_id].departments[department.pk] = department
    officials = (
        User.objects.filter(kind=UserKind.OFFICIAL, is_active=True, agency__isnull=False)
        .select_related("agency", "department")
        .prefetch_related("roles")
        .order_by("username")
    )
    for user in officials:
        roles = {r.role for r in user.roles.all()}
        user._role_cache = frozenset(roles)  # spares a query per official in the services
        entry = staff[user.agency_id]
        if Role.DESK_OFFICER in roles:
            entry.desk.append(user)
        if Role.AGENCY_LEADER in roles:
            entry.leaders.append(user)
        if user.department_id and Role.DEPARTMENT_LEADER in roles:
            entry.department_leaders[user.department_id].append(user)
        if user.department_id and Role.SPECIALIST in roles:
            entry.specialists[user.department_id].append(user)
    return staff


def _procedures_by_agency(agencies: list[Agency]) -> dict[int, list[Procedure]]:
    procedures = list(
        Procedure.objects.filter(is_active=True)
        .prefetch_related("agencies", "documents", "workflow_steps")
        .order_by("code")
    )
    result: dict[int, list[Procedure]] = {}
    for agency in agencies:
        fitting = [
            p
            for p in procedures
            if agency.kind in (p.agency_kinds or [])
            or any(a.pk == agency.pk for a in p.agencies.all())
        ]
        if fitting:
            result[agency.pk] = fitting
    return result


def _office_instant(rng: random.Random, calendar: WorkingCalendar, day: date) -> datetime:
    """A random instant inside the office hours of `day` (or the next working day)."""
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    start, end = rng.choice(calendar.office_hours.period_seconds)
    seconds = rng.randrange(start, end - 15 * 60, 60)
    return datetime.combine(day, time(seconds // 3600, seconds % 3600 // 60), tzinfo=VIETNAM_TZ)


def _applicant(rng: random.Random, agency: Agency) -> Applicant:
    born = rng.randint(1950, 2006)
    century_sex = (0 if born < 2000 else 2) + rng.randint(0, 1)
    return Applicant(
        name=f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
        id_number=f"019{century_sex}{born % 100:02d}{rng.randrange(10**6):06d}",
        phone=f"09{rng.randrange(10**8):08d}",
        address=f"{rng.choice(STREETS)}, {agency.unit.name}, tỉnh Thái Nguyên",
    )


def _citizen(applicant: Applicant) -> User:
    """The portal account of an online applicant (as the national e-ID sign-in would make it:
    `citizen-<personal identification number>`, no password), so their dossiers show under
    "my dossiers" and can be rated. Demo data: no sign-in is recorded."""
    user, _created = User.objects.get_or_create(
        personal_id=applicant.id_number,
        defaults={
            "username": f"citizen-{applicant.id_number}",
            "kind": UserKind.CITIZEN,
            "full_name": applicant.name,
            "phone": applicant.phone,
            "password": "!",  # unusable: citizens sign in with the e-ID only
        },
    )
    return user


def _processing_steps(procedure: Procedure) -> list[WorkflowStep]:
    """The steps between reception and the return of the result, as the services walk them."""
    steps = sorted(procedure.workflow_steps.all(), key=lambda s: s.position)
    return [s for s in steps if s.role != Role.DESK_OFFICER] or steps


def _weighted(
    rng: random.Random, choices: tuple[tuple[str, int], ...], late_factor: float = 1
) -> str:
    weights = [w * late_factor if c in LATE_FATES else w for c, w in choices]
    return rng.choices([c for c, _ in choices], weights=weights)[0]


def _demo_file(title: str) -> ContentFile:
    return ContentFile(DEMO_FILE, name=f"{slugify(title)[:60] or 'tai-lieu'}.pdf")


def _tet_days(years: set[int]) -> list[date]:
    """The first day of the Lunar New Year in `years` (from the `holidays` calendar)."""
    found = holidays.country_holidays("VN", years=sorted(years), language="en_US")
    return sorted(d for d, name in found.items() if name == "Lunar New Year")


def _day_load(day: date, tet: list[date]) -> float:
    """How many dossiers a day brings, relative to an average day: the month's load, a rush
    in the two weeks before Tết and a slow restart in the two weeks after."""
    load = MONTH_LOAD[day.month]
    for first in tet:
        before = (first - day).days
        if 0 < before <= 14:
            load *= 1.5
        elif 0 <= -before <= 14:
            load *= 0.35
    return load


class _Runner:
    """Takes one planned dossier through the services until its fate or until now."""

    def __init__(
        self,
        rng: random.Random,
        calendar: WorkingCalendar,
        now: datetime,
        staff: dict[int, _Staff],
        agencies: list[Agency],
        files_rng: random.Random | None = None,
    ) -> None:
        self.rng = rng
        self.files_rng = files_rng or random.Random(0)
        self.calendar = calendar
        self.now = now
        self.staff = staff
        self.agencies = agencies

    # -- time -------------------------------------------------------------------------------

    def later(self, at: datetime, low_hours: float, high_hours: float) -> datetime:
        seconds = int(self.rng.uniform(low_hours, high_hours) * HOUR)
        when = self.calendar.add_working_seconds(at, max(60, seconds))
        if when >= self.now:
            raise _NotYet
        return when

    def _at(self, when: datetime) -> datetime:
        if when >= self.now:
            raise _NotYet
        return when

    # -- the plan ---------------------------------------------------------------------------

    def run(self, plan: _Plan) -> Dossier:
        rng, staff = self.rng, self.staff[plan.agency.pk]
        desk = rng.choice(staff.desk)
        digitised = plan.channel == Channel.ONLINE or self.files_rng.random() < SCANNED_AT_DESK
        documents = [
            SubmittedDocument(
                name=r.name, requirement=r, file=_demo_file(r.name) if digitised else None
            )
            for r in plan.procedure.documents.all()
        ]
        if plan.channel == Channel.DESK:
            dossier = services.dossier_receive_at_desk(
                actor=desk,
                procedure=plan.procedure,
                applicant=plan.applicant,
                documents=documents,
                at=plan.start,
            )
        else:
            dossier = services.dossier_submit(
                actor=None,
                procedure=plan.procedure,
                agency=plan.agency,
                channel=plan.channel,
                applicant=plan.applicant,
                documents=documents,
                owner=_citizen(plan.applicant) if plan.channel == Channel.ONLINE else None,
                at=plan.start,
            )
        with contextlib.suppress(_NotYet):
            self._process(plan, dossier, staff, desk)
        return dossier

    def _process(self, plan: _Plan, dossier: Dossier, staff: _Staff, desk: User) -> None:
        rng, fate = self.rng, plan.fate
        t = plan.start
        if plan.channel != Channel.DESK:
            if fate == "to_receive":
                return
            t = self.later(t, 0.3, 6)
            if fate == "refused":
                services.dossier_refuse(
                    actor=desk, dossier=dossier, reason=rng.choice(REFUSAL_REASONS), at=t
                )
                return
            dossier = services.dossier_receive(actor=desk, dossier=dossier, at=t)
        if fate == "received":
            return
        if fate == "withdrawn" and rng.random() < 0.5:
            t = self.later(t, 1, 8)
            services.dossier_withdraw(
                actor=desk, dossier=dossier, reason=rng.choice(WITHDRAW_REASONS), at=t
            )
            return

        department = self._department(plan.procedure, staff)
        specialist = rng.choice(staff.specialists[department.pk])
        dispatcher = rng.choice(staff.department_leaders.get(department.pk) or staff.leaders)
        t = self.later(t, 0.5, 4)
        dossier = services.dossier_assign(
            actor=dispatcher, dossier=dossier, department=department, assignee=specialist, at=t
        )
        steps = _processing_steps(plan.procedure)

        if fate in ("stuck", "suspended"):
            if fate == "suspended":
                t = self.later(t, 2, 12)
                leader = rng.choice(staff.leaders)
                services.dossier_suspend(
                    actor=leader, dossier=dossier, reason=rng.choice(SUSPEND_REASONS), at=t
                )
            return
        if fate in ("supplement_waiting", "supplemented"):
            t = self.later(t, 1, 10)
            missing = [r.name for r in plan.procedure.documents.all()][:2] or ["Tờ khai"]
            dossier = services.dossier_request_supplement(
                actor=specialist,
                dossier=dossier,
                reason=rng.choice(SUPPLEMENT_REASONS),
                missing=rng.sample(missing, k=rng.randint(1, len(missing))),
                at=t,
            )
            if fate == "supplement_waiting":
                return
            t = self.later(t, 6, 30)
            dossier = services.dossier_supplement(
                actor=desk,
                dossier=dossier,
                note="Công dân đã nộp bổ sung tại Bộ phận Một cửa.",
                at=t,
            )
        if fate in ("transferred", "transfer_done"):
            t = self.later(t, 1, 8)
            target = self._transfer_target(plan.agency)
            dossier = services.dossier_transfer(
                actor=specialist,
                dossier=dossier,
                to_agency=target,
                reason=rng.choice(TRANSFER_REASONS),
                at=t,
            )
            if fate == "transferred":
                return
            other = self.staff[target.pk]
            returner = rng.choice([u for users in other.specialists.values() for u in users])
            t = self.later(t, 4, 16)
            dossier = services.dossier_transfer_return(
                actor=returner, dossier=dossier, note="Đã có ý kiến, chuyển trả hồ sơ.", at=t
            )
        if fate == "withdrawn":
            t = self.later(t, 2, 12)
            services.dossier_withdraw(
                actor=desk, dossier=dossier, reason=rng.choice(WITHDRAW_REASONS), at=t
            )
            return

        # The moment processing ends, by the fate's timeliness.
        received = dossier.received_at
        budget = dossier.budget_seconds
        if fate == "early" or fate in ("supplemented", "transfer_done", "rejected", "approved"):
            end = self.calendar.add_working_seconds(
                max(t, received), int(max(budget, HOUR) * rng.uniform(0.15, 0.5))
            )
        elif fate == "on_time":
            end = self._shortly_before(dossier.due_at, t)
        else:  # late, apology
            end = self.calendar.add_working_seconds(dossier.due_at, int(rng.uniform(2, 24) * HOUR))
        if fate == "processing":
            stop = rng.randrange(len(steps)) if steps else 0
            end = self.calendar.add_working_seconds(t, int(max(budget, HOUR) * 0.7))
            for step_index in range(1, stop + 1):
                t, dossier = self._forward(dossier, steps, step_index, t, end, staff, department)
            return

        for step_index in range(1, len(steps)):
            t, dossier = self._forward(dossier, steps, step_index, t, end, staff, department)
        if fate == "apology":
            due = dossier.due_at
            when = self._shortly_before(due, t, hours=3)
            if t < when < due:
                t = self._at(when)
                leader = rng.choice(staff.leaders)
                dossier = services.dossier_apologize(
                    actor=leader,
                    dossier=dossier,
                    new_due_at=self.calendar.add_working_seconds(due, 3 * 8 * HOUR),
                    reason=rng.choice(APOLOGY_REASONS),
                    at=t,
                )
        approver = self._approver(steps, staff, department)
        t = self._at(max(end, self.calendar.add_working_seconds(t, 600)))
        if fate == "rejected":
            dossier = services.dossier_reject(
                actor=approver, dossier=dossier, reason=rng.choice(REJECT_REASONS), at=t
            )
        else:
            electronic = self.files_rng.random() < ELECTRONIC_RESULT
            dossier = services.dossier_approve(
                actor=approver,
                dossier=dossier,
                result_file=_demo_file(f"ket-qua-{dossier.code}") if electronic else None,
                at=t,
            )
        if fate == "approved":
            return
        t = self.later(t, 0.5, 10)
        services.dossier_return_result(
            actor=desk,
            dossier=dossier,
            method=Channel.ONLINE if plan.channel == Channel.ONLINE else Channel.DESK,
            at=t,
        )

    # -- helpers ----------------------------------------------------------------------------

    def _shortly_before(self, due: datetime, after: datetime, hours: float = 1) -> datetime:
        """An instant in office hours between `after` and a little before `due`."""
        span = self.calendar.working_seconds_between(after, due)
        back = min(int(self.rng.uniform(0.2, hours) * HOUR), max(span - 60, 0))
        return self.calendar.add_working_seconds(after, max(span - back, 60))

    def _forward(
        self,
        dossier: Dossier,
        steps: list[WorkflowStep],
        step_index: int,
        t: datetime,
        end: datetime,
        staff: _Staff,
        department: Department,
    ) -> tuple[datetime, Dossier]:
        """Forward to `steps[step_index]` part of the way between `t` and `end`."""
        span = max(self.calendar.working_seconds_between(t, end), 600)
        remaining_steps = len(steps) - step_index + 1
        when = self._at(self.calendar.add_working_seconds(t, max(60, span // remaining_steps)))
        holder = self._handler_for(steps[step_index], staff, department)
        actor = dossier.assignee or holder
        dossier = services.dossier_forward(actor=actor, dossier=dossier, assignee=holder, at=when)
        return when, dossier

    def _handler_for(self, step: WorkflowStep, staff: _Staff, department: Department) -> User:
        if step.role == Role.AGENCY_LEADER and staff.leaders:
            return self.rng.choice(staff.leaders)
        if step.role == Role.DEPARTMENT_LEADER and staff.department_leaders.get(department.pk):
            return self.rng.choice(staff.department_leaders[department.pk])
        return self.rng.choice(staff.specialists[department.pk])

    def _approver(self, steps: list[WorkflowStep], staff: _Staff, department: Department) -> User:
        last_role = steps[-1].role if steps else Role.AGENCY_LEADER
        if last_role == Role.DEPARTMENT_LEADER and staff.department_leaders.get(department.pk):
            return self.rng.choice(staff.department_leaders[department.pk])
        return self.rng.choice(staff.leaders or staff.department_leaders[department.pk])

    def _department(self, procedure: Procedure, staff: _Staff) -> Department:
        handling = staff.handling_departments()
        codes = {s.department_code for s in procedure.workflow_steps.all() if s.department_code}
        preferred = [d for d in handling if d.code in codes]
        return self.rng.choice(preferred or handling)

    def _transfer_target(self, agency: Agency) -> Agency:
        kinds = (
            (AgencyKind.POLICE, AgencyKind.PROVINCIAL_DEPARTMENT)
            if agency.kind == AgencyKind.COMMUNE_COMMITTEE
            else (AgencyKind.COMMUNE_COMMITTEE, AgencyKind.PROVINCIAL_DEPARTMENT)
        )
        targets = [
            a
            for a in self.agencies
            if a.kind in kinds and a.pk != agency.pk and any(self.staff[a.pk].specialists.values())
        ]
        return self.rng.choice(targets)


@transaction.atomic
def load_demo_dossiers(
    *,
    count: int = DEFAULT_COUNT,
    days: int = DEFAULT_DAYS,
    history_count: int = 0,
    history_days: int = 365,
    seed: int = SEED,
    now: datetime | None = None,
) -> int:
    """Create the demo dossiers (and `history_count` finished ones over the `history_days`
    before the last `days`); returns how many were created (0 when dossiers exist)."""
    if Dossier.objects.exists():
        return 0
    now = now or timezone.now()
    staff = _staff_by_agency()
    agencies = [
        a
        for a in Agency.objects.filter(is_active=True).select_related("unit").order_by("code")
        if staff[a.pk].desk and staff[a.pk].leaders and staff[a.pk].handling_departments()
    ]
    procedures = _procedures_by_agency(agencies)
    agencies = [a for a in agencies if a.pk in procedures]
    if not agencies:
        return 0
    calendar = services.calendar_for_agency(agencies[0])
    rng = random.Random(seed)
    weights = [3 if a.kind == AgencyKind.COMMUNE_COMMITTEE else 1 for a in agencies]
    today = timezone.localdate(now)

    plans = []
    for _ in range(count):
        agency = rng.choices(agencies, weights=weights)[0]
        fate = _weighted(rng, FATES)
        procedure = rng.choice(procedures[agency.pk])
        if fate in ("to_receive", "refused"):
            channel = rng.choice((Channel.ONLINE, Channel.ONLINE, Channel.POST))
        else:
            channel = rng.choice((Channel.DESK, Channel.ONLINE, Channel.ONLINE))  # as the history
        if fate in RECENT_FATES:
            back = rng.randint(0, 4)
        elif fate == "stuck":
            back = rng.randint(8, days)
        else:
            back = rng.randint(3, days)
        start = _office_instant(rng, calendar, today - timedelta(days=back))
        if start >= now:
            start = _office_instant(rng, calendar, today - timedelta(days=back + 1))
            if start >= now:
                continue
        plans.append(_Plan(start, fate, agency, procedure, channel, _applicant(rng, agency)))
    plans += _history_plans(
        rng, calendar, agencies, procedures, weights, today, days, history_count, history_days
    )
    plans.sort(key=lambda p: p.start)

    runner = _Runner(rng, calendar, now, staff, agencies, random.Random(seed + 1))
    created = 0
    for plan in plans:
        try:
            with transaction.atomic():
                runner.run(plan)
        except DomainError as exc:  # a catalog the plan did not foresee: skip that dossier
            logger.warning("demo dossier for %s skipped: %s", plan.procedure.code, exc.message)
            continue
        created += 1
    return created


def _history_plans(
    rng: random.Random,
    calendar: WorkingCalendar,
    agencies: list[Agency],
    procedures: dict[int, list[Procedure]],
    weights: list[int],
    today: date,
    recent_days: int,
    count: int,
    history_days: int,
) -> list[_Plan]:
    if count <= 0 or history_days <= recent_days:
        return []
    # A quarter of the agencies are late about ten times as often as the others (the
    # dashboards' red rows): roughly 30 % of their finished dossiers against 5 %.
    late_factor = {a.pk: 3.0 if rng.random() < 0.25 else 0.35 for a in agencies}
    days = [today - timedelta(days=back) for back in range(recent_days + 1, history_days + 1)]
    tet = _tet_days({d.year for d in days} | {today.year + 1})
    day_weights = [_day_load(d, tet) if calendar.is_working_day(d) else 0 for d in days]
    plans = []
    for day in rng.choices(days, weights=day_weights, k=count):
        agency = rng.choices(agencies, weights=weights)[0]
        fate = _weighted(rng, HISTORY_FATES, late_factor[agency.pk])
        procedure = rng.choice(procedures[agency.pk])
        if fate == "refused":
            channel = rng.choice((Channel.ONLINE, Channel.ONLINE, Channel.POST))
        else:
            channel = rng.choice((Channel.DESK, Channel.ONLINE, Channel.ONLINE))
        start = _office_instant(rng, calendar, day)
        plans.append(_Plan(start, fate, agency, procedure, channel, _applicant(rng, agency)))
    return plans
