"""Processing: assignment, the workflow steps, transfers between agencies, suspension,
apology, the decision, the return of the result and withdrawal."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core.errors import IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import Agency, Department, Role, User, UserKind
from tinhso.dossiers import deadlines
from tinhso.dossiers.models import (
    DocumentKind,
    Dossier,
    ReturnMethod,
    StepVisit,
)
from tinhso.dossiers.services._core import (
    SubmittedDocument,
    _begin,
    _clock,
    _enter_step,
    _finish,
    _processing_steps,
    _set_clock,
    _store_documents,
)
from tinhso.dossiers.states import (
    Action,
    Outcome,
    Status,
)

# --- processing -----------------------------------------------------------------------------


@transaction.atomic
def dossier_assign(
    *,
    actor: User | None,
    dossier: Dossier,
    department: Department,
    assignee: User | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """Hand the dossier to a department (and a specialist in it); from reception this moves
    it to the first processing step."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.ASSIGN,
        expected_version=expected_version,
        at=at,
    )
    d = ctx.dossier
    holder = d.transfer_agency_id or d.agency_id
    if department.agency_id != holder:
        raise ValidationFailed(_("The department belongs to another agency."))
    if assignee is not None and (
        assignee.agency_id != holder or not assignee.is_active or assignee.kind != UserKind.OFFICIAL
    ):
        raise ValidationFailed(_("The specialist does not work in this agency."))
    d.department = department
    d.assignee = assignee
    ctx.data = {"department": department.name, "assignee": str(assignee) if assignee else ""}
    if d.status == Status.RECEIVED:
        steps = _processing_steps(d)
        _enter_step(ctx, steps[0] if steps else None, assignee)
    else:
        StepVisit.objects.filter(dossier=d, left_at__isnull=True).update(
            department=department, assignee=assignee
        )
    return _finish(ctx, Action.ASSIGN, Status.IN_PROCESSING)


def _step_role_check(actor: User | None, d: Dossier) -> None:
    if actor is None or d.current_step is None:
        return
    if actor.has_role(Role.DEPARTMENT_LEADER, Role.AGENCY_LEADER):
        return
    if d.current_step.role != Role.SPECIALIST and not actor.has_role(d.current_step.role):
        raise OutOfScope(_("This step belongs to another role."))
    if d.assignee_id is not None and d.assignee_id != actor.pk:
        raise OutOfScope(_("The dossier is assigned to another specialist."))


@transaction.atomic
def dossier_forward(
    *,
    actor: User | None,
    dossier: Dossier,
    assignee: User | None = None,
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """Move to the next processing step (e.g. from appraisal to the leader's approval)."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.FORWARD,
        expected_version=expected_version,
        at=at,
    )
    d = ctx.dossier
    _step_role_check(actor, d)
    steps = _processing_steps(d)
    position = next((i for i, s in enumerate(steps) if s.pk == d.current_step_id), -1)
    if position + 1 >= len(steps):
        raise IllegalTransition(_("This is the last step: approve or reject the dossier."))
    if assignee is not None:
        d.assignee = assignee
        ctx.data["assignee"] = str(assignee)
    _enter_step(ctx, steps[position + 1], assignee)
    return _finish(ctx, Action.FORWARD, Status.IN_PROCESSING, note)


@transaction.atomic
def dossier_send_back(
    *,
    actor: User | None,
    dossier: Dossier,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.SEND_BACK,
        expected_version=expected_version,
        reason=reason,
        at=at,
    )
    d = ctx.dossier
    steps = _processing_steps(d)
    position = next((i for i, s in enumerate(steps) if s.pk == d.current_step_id), 0)
    if position == 0:
        raise IllegalTransition(_("The dossier is at its first processing step."))
    _enter_step(ctx, steps[position - 1])
    return _finish(ctx, Action.SEND_BACK, Status.IN_PROCESSING, reason)


@transaction.atomic
def dossier_transfer(
    *,
    actor: User | None,
    dossier: Dossier,
    to_agency: Agency,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """Send the dossier to another agency for its part (liên thông); the clock keeps running."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.TRANSFER,
        expected_version=expected_version,
        reason=reason,
        at=at,
    )
    d = ctx.dossier
    if to_agency.pk == d.agency_id or not to_agency.is_active:
        raise ValidationFailed(_("Choose another, active agency."))
    d.transfer_agency = to_agency
    ctx.data = {"to_agency": to_agency.code, "to_agency_name": to_agency.name}
    return _finish(ctx, Action.TRANSFER, Status.TRANSFERRED, reason)


@transaction.atomic
def dossier_transfer_return(
    *,
    actor: User | None,
    dossier: Dossier,
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.TRANSFER_RETURN,
        expected_version=expected_version,
        at=at,
    )
    d = ctx.dossier
    ctx.data = {"from_agency": d.transfer_agency.code if d.transfer_agency else ""}
    d.transfer_agency = None
    return _finish(ctx, Action.TRANSFER_RETURN, Status.IN_PROCESSING, note)


@transaction.atomic
def dossier_suspend(
    *,
    actor: User | None,
    dossier: Dossier,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.SUSPEND,
        expected_version=expected_version,
        reason=reason,
        at=at,
    )
    d = ctx.dossier
    d.resume_status = d.status
    _set_clock(d, deadlines.clock_stop(_clock(d), ctx.calendar, ctx.at))
    return _finish(ctx, Action.SUSPEND, Status.SUSPENDED, reason)


@transaction.atomic
def dossier_resume(
    *,
    actor: User | None,
    dossier: Dossier,
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.RESUME,
        expected_version=expected_version,
        at=at,
    )
    d = ctx.dossier
    _set_clock(d, deadlines.clock_resume(_clock(d), ctx.calendar, ctx.at))
    back_to = d.resume_status or Status.IN_PROCESSING
    d.resume_status = ""
    ctx.data["due_at"] = d.due_at
    return _finish(ctx, Action.RESUME, back_to, note)


@transaction.atomic
def dossier_apologize(
    *,
    actor: User | None,
    dossier: Dossier,
    new_due_at: datetime,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """The apology and new appointment: only before the deadline passes, and the dossier
    still counts late."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.APOLOGIZE,
        expected_version=expected_version,
        reason=reason,
        at=at,
    )
    d = ctx.dossier
    if d.due_at is None:
        raise IllegalTransition(_("The dossier has no appointment yet."))
    if ctx.at >= d.due_at:
        raise IllegalTransition(
            _("The appointment has already passed: an apology must be issued before it.")
        )
    if timezone.is_naive(new_due_at) or new_due_at <= d.due_at:
        raise ValidationFailed(_("The new appointment must be later than the current one."))
    previous = d.due_at
    _set_clock(d, deadlines.clock_extend_to(_clock(d), ctx.calendar, new_due_at))
    d.due_at = new_due_at
    d.apology_count += 1
    ctx.data = {"previous_due_at": previous, "due_at": new_due_at}
    return _finish(ctx, Action.APOLOGIZE, d.status, reason)


@transaction.atomic
def dossier_approve(
    *,
    actor: User | None,
    dossier: Dossier,
    result_summary: str = "",
    result_file: File | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """Approve: processing ends, the result is attached; the desk returns it next."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.APPROVE,
        expected_version=expected_version,
        at=at,
    )
    d = ctx.dossier
    d.outcome = Outcome.APPROVED
    d.processed_at = ctx.at
    d.result_summary = result_summary or d.procedure.result_type
    ctx.data["result_summary"] = d.result_summary
    _set_clock(d, deadlines.clock_stop(_clock(d), ctx.calendar, ctx.at))
    if result_file is not None:
        _store_documents(
            d,
            [SubmittedDocument(name=d.result_summary or _("Result"), file=result_file)],
            DocumentKind.RESULT,
            actor,
        )
        ctx.data["result_file"] = True
    _enter_step(ctx, None)
    return _finish(ctx, Action.APPROVE, Status.APPROVED)


@transaction.atomic
def dossier_reject(
    *,
    actor: User | None,
    dossier: Dossier,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.REJECT,
        expected_version=expected_version,
        reason=reason,
        at=at,
    )
    d = ctx.dossier
    d.outcome = Outcome.REJECTED
    d.processed_at = ctx.at
    d.result_summary = reason
    _set_clock(d, deadlines.clock_stop(_clock(d), ctx.calendar, ctx.at))
    _enter_step(ctx, None)
    return _finish(ctx, Action.REJECT, Status.REJECTED, reason)


@transaction.atomic
def dossier_return_result(
    *,
    actor: User | None,
    dossier: Dossier,
    method: str = ReturnMethod.DESK,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """Return the result (desk, post or online): the dossier is done and classified early,
    on time or late by when its processing ended."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.RETURN_RESULT,
        expected_version=expected_version,
        at=at,
    )
    if method not in ReturnMethod.values:
        raise ValidationFailed(_("Unknown way of returning the result."))
    d = ctx.dossier
    d.returned_at = ctx.at
    d.return_method = method
    d.ended_at = d.processed_at or ctx.at
    d.timeliness = deadlines.classify_done(
        ended_at=d.ended_at,
        due_at=d.due_at,
        apology_count=d.apology_count,
        supplement_count=d.supplement_count,
        late_after_second_supplement=settings.TINHSO_LATE_AFTER_SECOND_SUPPLEMENT,
    )
    ctx.data = {"method": method, "timeliness": d.timeliness}
    return _finish(ctx, Action.RETURN_RESULT, Status.DONE)


@transaction.atomic
def dossier_withdraw(
    *,
    actor: User | None,
    dossier: Dossier,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """The applicant withdraws before a result (a desk officer may record it for them)."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.WITHDRAW,
        expected_version=expected_version,
        reason=reason,
        at=at,
    )
    d = ctx.dossier
    _set_clock(d, deadlines.clock_stop(_clock(d), ctx.calendar, ctx.at))
    d.ended_at = ctx.at
    if d.received_at is not None:
        d.timeliness = deadlines.classify_done(
            ended_at=ctx.at,
            due_at=d.due_at,
            apology_count=d.apology_count,
            supplement_count=d.supplement_count,
            late_after_second_supplement=settings.TINHSO_LATE_AFTER_SECOND_SUPPLEMENT,
        )
    _enter_step(ctx, None)
    return _finish(ctx, Action.WITHDRAW, Status.WITHDRAWN, reason)
