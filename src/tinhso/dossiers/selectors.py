"""Read queries for dossiers: inboxes per role, search, and a dossier's deadline status.
Everything goes through `scope`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tinhso.catalog.models import Procedure
from tinhso.core.errors import NotFound
from tinhso.core.models import Agency, Department, Role, User, UserKind
from tinhso.core.scoping import scope, scope_of
from tinhso.core.selectors import province_id_of_path, working_calendar_for_id
from tinhso.core.text import fold_vietnamese
from tinhso.dossiers import deadlines
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.services import calendar_for_agency
from tinhso.dossiers.states import (
    CLOCK_RUNNING_STATUSES,
    OPEN_STATUSES,
    RULES,
    Status,
    allowed_actions,
)

INBOXES = ("to_receive", "to_process", "due_soon", "overdue", "returned", "to_return", "all")


def dossiers_visible(user: Any) -> QuerySet[Dossier]:
    return scope(
        Dossier.objects.select_related(
            "procedure", "agency", "transfer_agency", "assignee", "current_step", "department"
        ),
        user,
    )


def dossier_get(
    user: Any, *, pk: int | None = None, code: str | None = None, related: bool = True
) -> Dossier:
    """The dossier `pk` (or `code`) if `user` may see it, else `NotFound`; `related=False`
    skips the detail's joins (for a caller that only needs the row)."""
    qs = dossiers_visible(user) if related else scope(Dossier.objects.all(), user)
    try:
        return qs.get(pk=pk) if pk is not None else qs.get(code=code)
    except (Dossier.DoesNotExist, ValueError) as exc:
        raise NotFound() from exc


def _due_soon_seconds(dossier_or_none: Dossier | None = None) -> int:
    return settings.TINHSO_DUE_SOON_WORKING_DAYS * 8 * 3600


def open_timeliness(dossier: Dossier, *, at: datetime | None = None) -> str:
    """Within deadline / due soon / overdue / paused for an open dossier (in the calendar of
    its province, read from the dossier's own unit path: no agency or unit to load)."""
    calendar = working_calendar_for_id(province_id_of_path(dossier.unit_path))
    clock = deadlines.Clock(
        dossier.budget_seconds,
        dossier.consumed_seconds,
        dossier.clock_running,
        dossier.clock_resumed_at,
        dossier.due_at,
    )
    return deadlines.classify_open(
        clock=clock,
        calendar=calendar,
        at=at or timezone.now(),
        due_soon_seconds=settings.TINHSO_DUE_SOON_WORKING_DAYS * calendar.office_hours.day_seconds,
        received=dossier.received_at is not None,
    )


def remaining_working_seconds(dossier: Dossier, *, at: datetime | None = None) -> int | None:
    if dossier.received_at is None or not dossier.is_open:
        return None
    calendar = calendar_for_agency(dossier.agency)
    clock = deadlines.Clock(
        dossier.budget_seconds,
        dossier.consumed_seconds,
        dossier.clock_running,
        dossier.clock_resumed_at,
        dossier.due_at,
    )
    return clock.remaining_at(calendar, at or timezone.now())


def inbox(
    user: Any,
    box: str,
    *,
    query: str = "",
    procedure_code: str = "",
    at: datetime | None = None,
) -> QuerySet[Dossier]:
    """The dossiers of one inbox for `user`, newest first (due soonest first for deadlines).

    - to_receive: submitted online or by post, waiting at the desk;
    - to_process: in processing at the user's step (assigned to them, or unassigned in
      their department for leaders);
    - due_soon / overdue: open dossiers with a running clock close to or past the deadline
      (approximated in calendar time from the stored deadline);
    - returned: sent back to the user's step, or back from a transfer;
    - to_return: approved or rejected, waiting for the desk to return the result.
    """
    now = at or timezone.now()
    qs = dossiers_visible(user)
    if box in BOX_ORDER:
        qs = qs.filter(_open_box_filters(user, now, only=box)[box]).order_by(BOX_ORDER[box])
    elif box == "returned":
        qs = qs.filter(_returned_filter()).order_by("-submitted_at")
    elif box == "to_return":
        qs = qs.filter(status__in=[Status.APPROVED, Status.REJECTED]).order_by("processed_at")
    elif box != "all":
        raise NotFound()
    if query:
        qs = qs.filter(
            Q(code__icontains=query)
            | Q(applicant_name__icontains=query)
            | Q(applicant_id_number=query)
            | Q(procedure__name__icontains=query)
        )
    if procedure_code:
        qs = qs.filter(procedure__code=procedure_code)
    return qs


#: The inboxes that hold open dossiers picked by status and deadline, and their order.
BOX_ORDER = {
    "to_receive": "submitted_at",
    "to_process": "due_at",
    "due_soon": "due_at",
    "overdue": "due_at",
    "to_return": "processed_at",
}


def _open_box_filters(user: Any, now: datetime, *, only: str | None = None) -> dict[str, Q]:
    """The filter of each inbox of `BOX_ORDER` (or of `only`): one definition for the
    list and for the counts."""
    filters: dict[str, Q] = {}
    wanted = BOX_ORDER if only is None else {only}
    if "to_receive" in wanted:
        filters["to_receive"] = Q(status=Status.SUBMITTED)
    if "to_process" in wanted:
        to_process = Q(status__in=[Status.RECEIVED, Status.IN_PROCESSING])
        if user.has_role(Role.SPECIALIST) and not user.has_role(
            Role.DEPARTMENT_LEADER, Role.AGENCY_LEADER
        ):
            to_process &= Q(assignee=user)
        filters["to_process"] = to_process
    if "due_soon" in wanted:
        horizon = calendar_horizon(user, now)
        filters["due_soon"] = Q(
            status__in=CLOCK_RUNNING_STATUSES, due_at__gte=now, due_at__lte=horizon
        )
    if "overdue" in wanted:
        filters["overdue"] = Q(status__in=CLOCK_RUNNING_STATUSES, due_at__lt=now)
    if "to_return" in wanted:
        filters["to_return"] = Q(status__in=[Status.APPROVED, Status.REJECTED])
    return filters


def _returned_filter() -> Q:
    """In processing after a send-back or the return from a transfer (`Dossier.sent_back`)."""
    return Q(status=Status.IN_PROCESSING, sent_back=True)


def calendar_horizon(user: Any, now: datetime) -> datetime:
    """The instant `TINHSO_DUE_SOON_WORKING_DAYS` working days from now, in the calendar of
    the user's province."""
    if getattr(user, "agency", None) is None:
        from datetime import timedelta

        return now + timedelta(days=settings.TINHSO_DUE_SOON_WORKING_DAYS)
    calendar = calendar_for_agency(user.agency)
    return calendar.due(now, settings.TINHSO_DUE_SOON_WORKING_DAYS)


def inbox_counts(user: Any, *, at: datetime | None = None) -> dict[str, int]:
    """How many dossiers each inbox holds: the open dossiers' inboxes in one pass over the
    user's open dossiers, "all" apart."""
    now = at or timezone.now()
    filters = _open_box_filters(user, now)
    filters["returned"] = _returned_filter()
    counts: dict[str, int] = (
        scope(Dossier.objects.all(), user)
        .filter(status__in=OPEN_STATUSES)
        .aggregate(**{box: Count("pk", filter=q) for box, q in filters.items()})
    )
    counts["all"] = visible_count(user)
    return {box: counts[box] for box in INBOXES}


#: The "all" tab counts this many dossiers at most ("10000+"): counting every dossier an
#: agency or the province ever had grows with history (25 ms for an agency of 354,394
#: dossiers, seconds for a province of millions; docs/benchmarks.md), and nobody pages
#: that far: they search.
ALL_COUNT_CAP = 10_000


def visible_count(user: Any, *, cap: int | None = None) -> int:
    """How many dossiers `user` sees, up to `cap` (`ALL_COUNT_CAP` by default). For an
    agency's official, the agency's own dossiers and those transferred to it are counted
    apart: each is an index-only count, where the single `agency = X OR transfer_agency = X`
    filter reads the table's pages (≈ 250 ms for an agency with 70,000 dossiers)."""
    cap = ALL_COUNT_CAP if cap is None else cap
    user_scope = scope_of(user)
    if user_scope.agency_id is None or user_scope.nothing:
        return dossiers_visible(user).order_by()[:cap].count()
    agency_id = user_scope.agency_id
    # No ordering inside the capped count: sorting the agency's dossiers first is the cost.
    own = Dossier.objects.filter(agency_id=agency_id).order_by()[:cap].count()
    if own >= cap:
        return cap
    transferred = (
        Dossier.objects.filter(transfer_agency_id=agency_id)
        .exclude(agency_id=agency_id)
        .order_by()[: cap - own]
        .count()
    )
    return own + transferred


def inbox_procedures(user: Any) -> list[tuple[str, str]]:
    """The procedures the inbox's filter offers: the catalog of the user's agency (or the
    whole catalog in force), not a DISTINCT over every dossier the user sees."""
    agency = getattr(user, "agency", None)
    procedures = (
        procedures_for_agency(agency)
        if agency is not None
        else Procedure.objects.filter(is_active=True).order_by("code")
    )
    return list(procedures.values_list("code", "name"))


def actions_for(user: Any, dossier: Dossier) -> list[str]:
    """The transitions `user` may offer as buttons on the dossier page."""
    roles: set[str] = set()
    if dossier.owner_id == getattr(user, "pk", None):
        roles.add("applicant")
    if getattr(user, "kind", "") == "official":
        roles |= set(user.role_set)
        holder = dossier.transfer_agency_id or dossier.agency_id
        if user.agency_id not in (holder, dossier.agency_id):
            roles = set()
    actions = allowed_actions(dossier.status, roles)
    if dossier.status == Status.TRANSFERRED:
        if user.agency_id == dossier.transfer_agency_id:
            actions = [a for a in actions if a == "transfer_return"]
        else:
            actions = [a for a in actions if a == "apologize"]
    return [a for a in actions if a in RULES]


# --- what the desk's forms offer ---------------------------------------------------------------


def procedures_for_agency(agency: Agency) -> QuerySet[Procedure]:
    """The procedures in force that `agency` implements, by its kind or by name."""
    return (
        Procedure.objects.filter(is_active=True)
        .filter(
            Q(agency_kinds__icontains=f'"{agency.kind}"') | Q(agencies=agency) | Q(agency_kinds=[])
        )
        .distinct()
        .order_by("code")
    )


def holder_id(dossier: Dossier) -> int:
    return dossier.transfer_agency_id or dossier.agency_id


def holder_departments(dossier: Dossier) -> QuerySet[Department]:
    return Department.objects.filter(agency_id=holder_id(dossier)).order_by(
        "is_one_stop_desk", "name"
    )


def holder_officials(dossier: Dossier) -> QuerySet[User]:
    """The officials of the agency holding the dossier who can handle it."""
    return (
        User.objects.filter(
            agency_id=holder_id(dossier),
            kind=UserKind.OFFICIAL,
            is_active=True,
            roles__role__in=[Role.SPECIALIST, Role.DEPARTMENT_LEADER, Role.AGENCY_LEADER],
        )
        .select_related("department")
        .distinct()
        .order_by("department__name", "full_name")
    )


def transfer_targets(dossier: Dossier) -> QuerySet[Agency]:
    province_path = "/" + dossier.unit_path.strip("/").split("/")[0] + "/"
    return (
        Agency.objects.filter(is_active=True, unit__path__startswith=province_path)
        .exclude(pk=dossier.agency_id)
        .order_by("kind", "name")
    )


def search_procedures(agency: Agency, query: str, limit: int = 100) -> list[Procedure]:
    procedures = list(procedures_for_agency(agency).only("pk", "code", "name"))
    words = fold_vietnamese(query).split()
    if words:
        procedures = [
            p for p in procedures if all(w in fold_vietnamese(f"{p.code} {p.name}") for w in words)
        ]
    return procedures[:limit]


__all__ = [
    "ALL_COUNT_CAP",
    "INBOXES",
    "OPEN_STATUSES",
    "actions_for",
    "dossier_get",
    "dossiers_visible",
    "holder_departments",
    "holder_id",
    "holder_officials",
    "inbox",
    "inbox_counts",
    "open_timeliness",
    "procedures_for_agency",
    "remaining_working_seconds",
    "search_procedures",
    "transfer_targets",
]
