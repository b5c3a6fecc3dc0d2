"""Every change to a dossier: one function per transition. Each locks the dossier row,
checks the expected version (two officials acting at once: one wins, the other gets a
`Conflict`), applies the state-machine rule with the actor's role and scope, moves the
deadline clock, appends the event, and fires the notification hooks after commit."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.catalog import cache as catalog_cache
from tinhso.catalog.models import DocumentRequirement, Procedure, ProcedureBundle, WorkflowStep
from tinhso.core.audit import actor_label
from tinhso.core.errors import Conflict, IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import Agency, AgencyKind, AuditRecord, Department, Role, User, UserKind
from tinhso.core.selectors import province_id_of, working_calendar_for_id
from tinhso.core.working_calendar import WorkingCalendar
from tinhso.dossiers import deadlines, hooks
from tinhso.dossiers.models import (
    ApplicantKind,
    Bundle,
    DocumentKind,
    Dossier,
    DossierDocument,
    DossierEvent,
    ReturnMethod,
    StepVisit,
)
from tinhso.dossiers.states import (
    APPLICANT,
    CLOCK_RUNNING_STATUSES,
    RULES,
    SENT_BACK_ACTIONS,
    Action,
    Channel,
    Outcome,
    Status,
)

ID_NUMBER = re.compile(r"^\d{12}$")
TAX_CODE = re.compile(r"^\d{10}(\d{3})?$|^\d{10}-\d{3}$")


@dataclass(frozen=True)
class Applicant:
    name: str
    id_number: str
    kind: str = ApplicantKind.CITIZEN
    phone: str = ""
    email: str = ""
    address: str = ""

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if not self.name.strip():
            errors["name"] = _("Enter the applicant's full name.")
        if self.kind == ApplicantKind.CITIZEN and not ID_NUMBER.match(self.id_number):
            errors["id_number"] = _("The personal identification number has 12 digits.")
        if self.kind == ApplicantKind.BUSINESS and not TAX_CODE.match(self.id_number):
            errors["id_number"] = _("The tax code has 10 or 13 digits.")
        if self.phone and not re.match(r"^\+?\d{9,12}$", self.phone.replace(" ", "")):
            errors["phone"] = _("The phone number is not valid.")
        if errors:
            raise ValidationFailed(" ".join(errors.values()), fields=errors)


@dataclass(frozen=True)
class SubmittedDocument:
    name: str
    requirement: DocumentRequirement | None = None
    file: File | None = None
    is_reused: bool = False
    #: An earlier verified document or result of the same applicant, reused instead of an
    #: upload (the personal data store); the stored file is shared, not copied.
    reused_from: DossierDocument | None = None


@dataclass
class _Context:
    """What a transition works on: the locked dossier, its calendar and the moment."""

    dossier: Dossier
    calendar: WorkingCalendar
    at: datetime
    actor: User | None
    from_status: str
    data: dict[str, Any] = field(default_factory=dict)


# --- helpers --------------------------------------------------------------------------------


def _now(at: datetime | None) -> datetime:
    return at if at is not None else timezone.now()


def calendar_for_agency(agency: Agency) -> WorkingCalendar:
    return working_calendar_for_id(province_id_of(agency.unit))


def _next_code(agency: Agency, at: datetime) -> str:
    """`<agency code>-<yymmdd>-<sequence>`: one counter row per agency and day, incremented
    by an upsert that holds the row lock until commit, so codes are never reused or skipped
    even when many submissions arrive at once."""
    day = timezone.localdate(at)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO dossiers_dossiercodecounter (agency_id, day, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (agency_id, day) DO UPDATE "
            "SET last = dossiers_dossiercodecounter.last + 1 RETURNING last",
            [agency.pk, day],
        )
        sequence = cursor.fetchone()[0]
    return f"{agency.code}-{day:%y%m%d}-{sequence:04d}"


EID_SIGN_IN = "citizen.signin"


def signed_in_with_eid(user: User | None) -> bool:
    """Whether `user` (a citizen or business) has signed in with the national e-ID, which
    vouches for their identity (the population database's data)."""
    if user is None or user.pk is None or user.kind == UserKind.OFFICIAL:
        return False
    return AuditRecord.objects.filter(
        action=EID_SIGN_IN,
        object_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
    ).exists()


def mark_identity_verified(*, owner: User | None = None, code: str = "") -> int:
    """Mark the dossiers of `owner` (signed in with e-ID just now), or the dossier `code` (a
    look-up in the population database found its applicant), as identity-verified."""
    dossiers = Dossier.objects.filter(identity_verified=False)
    if owner is not None:
        return dossiers.filter(owner=owner).update(identity_verified=True)
    if code:
        return dossiers.filter(code=code).update(identity_verified=True)
    return 0


def _clock(dossier: Dossier) -> deadlines.Clock:
    return deadlines.Clock(
        dossier.budget_seconds,
        dossier.consumed_seconds,
        dossier.clock_running,
        dossier.clock_resumed_at,
        dossier.due_at,
    )


def _set_clock(dossier: Dossier, clock: deadlines.Clock) -> None:
    dossier.budget_seconds = clock.budget_seconds
    dossier.consumed_seconds = clock.consumed_seconds
    dossier.clock_running = clock.running
    dossier.clock_resumed_at = clock.resumed_at
    dossier.due_at = clock.due_at


def _store_documents(
    dossier: Dossier, documents: Iterable[SubmittedDocument], kind: str, actor: User | None
) -> list[DossierDocument]:
    stored = []
    for doc in documents:
        record = DossierDocument(
            dossier=dossier,
            kind=kind,
            requirement=doc.requirement,
            name=doc.name or (doc.requirement.name if doc.requirement else ""),
            is_reused=doc.is_reused or doc.reused_from is not None,
        )
        if doc.reused_from is not None:
            source = doc.reused_from
            record.reused_from = source
            record.file = source.file.name
            record.sha256, record.size = source.sha256, source.size
            record.content_type = source.content_type
            record.is_digitised = source.is_digitised
        elif doc.file is not None:
            digest = hashlib.sha256()
            for chunk in doc.file.chunks():
                digest.update(chunk)
            doc.file.seek(0)
            record.sha256 = digest.hexdigest()
            record.size = doc.file.size or 0
            record.content_type = getattr(doc.file, "content_type", "") or ""
            record.is_digitised = True
            record.verified_by = actor if actor and actor.kind == UserKind.OFFICIAL else None
            record.file.save(doc.file.name or "document", doc.file, save=False)
        record.save()
        stored.append(record)
    return stored


def _append_event(ctx: _Context, action: str, reason: str = "") -> DossierEvent:
    dossier = ctx.dossier
    agency = ctx.actor.agency if ctx.actor and ctx.actor.agency_id else dossier.agency
    event = DossierEvent.objects.create(
        dossier=dossier,
        seq=dossier.version,
        at=ctx.at,
        actor=ctx.actor if ctx.actor is not None and ctx.actor.pk else None,
        actor_label=actor_label(ctx.actor),
        agency=agency,
        action=action,
        from_status=ctx.from_status,
        to_status=dossier.status,
        reason=reason,
        data=ctx.data,
    )
    hooks.run_in_transaction(event)
    transaction.on_commit(lambda: hooks.fire(event))
    return event


def _roles_of(actor: User | None, dossier: Dossier) -> set[str]:
    if actor is None:
        return set(Role.values) | {APPLICANT}  # the system itself (imports, tasks)
    roles: set[str] = set()
    if dossier.owner_id is not None and dossier.owner_id == actor.pk:
        roles.add(APPLICANT)
    if actor.kind == UserKind.OFFICIAL and actor.is_active:
        roles |= set(actor.role_set)
    return roles


def _check_scope(actor: User | None, dossier: Dossier, action: str) -> None:
    """Officials act on their own agency's dossiers; while a dossier is transferred, the
    agency holding it does the processing and returns it."""
    if actor is None or actor.is_superuser:
        return
    if dossier.owner_id == actor.pk and actor.kind != UserKind.OFFICIAL:
        return
    if actor.kind != UserKind.OFFICIAL or actor.agency_id is None:
        raise OutOfScope()
    if action == Action.TRANSFER_RETURN:
        if actor.agency_id != dossier.transfer_agency_id:
            raise OutOfScope(_("Only the agency the dossier was transferred to can return it."))
        return
    if dossier.status == Status.TRANSFERRED and action != Action.APOLOGIZE:
        if actor.agency_id not in (dossier.agency_id, dossier.transfer_agency_id):
            raise OutOfScope()
        return
    if actor.agency_id != dossier.agency_id:
        raise OutOfScope()


def _begin(
    *,
    actor: User | None,
    dossier: Dossier,
    action: str,
    expected_version: int | None,
    reason: str = "",
    at: datetime | None = None,
) -> _Context:
    locked = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("agency__unit", "procedure", "current_step")
        .get(pk=dossier.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            _("Dossier %(code)s was changed by someone else a moment ago. Reload it and try again.")
            % {"code": locked.code},
            current_version=locked.version,
        )
    rule = RULES[action]
    if locked.status not in rule.sources:
        raise IllegalTransition(
            _("“%(action)s” is not allowed while the dossier is “%(status)s”.")
            % {"action": Action(action).label, "status": Status(locked.status).label},
            status=locked.status,
        )
    _check_scope(actor, locked, action)
    if not (_roles_of(actor, locked) & rule.roles):
        raise OutOfScope(
            _("Your role does not allow “%(action)s”.") % {"action": Action(action).label}
        )
    if rule.needs_reason and not reason.strip():
        raise ValidationFailed(_("Give the reason."), fields={"reason": _("Required.")})
    when = _now(at)
    return _Context(
        dossier=locked,
        calendar=calendar_for_agency(locked.agency),
        at=when,
        actor=actor,
        from_status=locked.status,
    )


def _finish(ctx: _Context, action: str, status: str, reason: str = "") -> Dossier:
    dossier = ctx.dossier
    dossier.status = status
    dossier.version += 1
    dossier.sent_back = action in SENT_BACK_ACTIONS
    dossier.save()
    if dossier.bundle_id is not None and status == Status.DONE:
        ctx.data["bundle_done"] = bundle_is_done(dossier.bundle)
    _append_event(ctx, action, reason)
    return dossier


def _enter_step(ctx: _Context, step: WorkflowStep | None, assignee: User | None = None) -> None:
    dossier = ctx.dossier
    StepVisit.objects.filter(dossier=dossier, left_at__isnull=True).update(left_at=ctx.at)
    dossier.current_step = step
    dossier.step_due_at = None
    if step is None:
        return
    if dossier.clock_running:
        step_budget = int(dossier.budget_seconds * Decimal(step.share_percent) / 100)
        dossier.step_due_at = ctx.calendar.add_working_seconds(ctx.at, step_budget)
    StepVisit.objects.create(
        dossier=dossier,
        step=step,
        agency=dossier.transfer_agency or dossier.agency,
        department=dossier.department,
        assignee=assignee or dossier.assignee,
        entered_at=ctx.at,
        due_at=dossier.step_due_at,
    )
    ctx.data["step"] = step.name


def _steps(dossier: Dossier) -> list[WorkflowStep]:
    return list(catalog_cache.workflow_steps(dossier.procedure_id))


def _processing_steps(dossier: Dossier) -> list[WorkflowStep]:
    """The steps after reception and before the return of the result."""
    steps = _steps(dossier)
    return [s for s in steps if s.role != Role.DESK_OFFICER] or steps


# --- submission and reception ---------------------------------------------------------------


@transaction.atomic
def dossier_submit(
    *,
    actor: User | None,
    procedure: Procedure,
    agency: Agency,
    channel: str,
    applicant: Applicant,
    documents: Sequence[SubmittedDocument] = (),
    owner: User | None = None,
    note: str = "",
    bundle: Bundle | None = None,
    at: datetime | None = None,
) -> Dossier:
    """A new dossier, waiting for reception at `agency` (online, by post, or typed in at the
    desk for a walk-in applicant, see `dossier_receive_at_desk`)."""
    if channel not in Channel.values:
        raise ValidationFailed(_("Unknown channel."))
    applicant.validate()
    if not procedure.is_active:
        raise ValidationFailed(_("This procedure is no longer in force."))
    if (
        procedure.agency_kinds
        and agency.kind not in procedure.agency_kinds
        and not procedure.agencies.filter(pk=agency.pk).exists()
    ):
        raise ValidationFailed(_("This agency does not handle this procedure."))
    if actor is not None and actor.kind == UserKind.OFFICIAL:
        if not (actor.is_superuser or actor.agency_id == agency.pk):
            raise OutOfScope(_("You can only receive dossiers for your own agency."))
        if not (actor.is_superuser or actor.has_role(Role.DESK_OFFICER)):
            raise OutOfScope(_("Only a one-stop desk officer can take in a dossier."))
    elif actor is not None and owner is None:
        owner = actor
    when = _now(at)
    dossier = Dossier.objects.create(
        code=_next_code(agency, when),
        procedure=procedure,
        agency=agency,
        unit_path=agency.unit.path,
        bundle=bundle,
        channel=channel,
        status=Status.SUBMITTED,
        applicant_kind=applicant.kind,
        applicant_name=applicant.name.strip(),
        applicant_id_number=applicant.id_number,
        applicant_phone=applicant.phone,
        applicant_email=applicant.email,
        applicant_address=applicant.address,
        owner=owner,
        note=note,
        submitted_at=when,
        identity_verified=signed_in_with_eid(owner),
    )
    _store_documents(dossier, documents, DocumentKind.INPUT, actor)
    ctx = _Context(dossier, calendar_for_agency(agency), when, actor, "")
    ctx.data = {"channel": channel, "documents": len(documents)}
    _append_event(ctx, Action.SUBMIT)
    return dossier


@transaction.atomic
def dossier_receive(
    *,
    actor: User | None,
    dossier: Dossier,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """Receive: the receipt's appointment is the deadline from the calendar; the clock starts
    (at the next opening when received outside office hours)."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.RECEIVE,
        expected_version=expected_version,
        at=at,
    )
    d = ctx.dossier
    d.received_at = ctx.at
    clock = deadlines.clock_start(ctx.calendar, ctx.at, d.procedure.processing_days)
    _set_clock(d, clock)
    d.original_due_at = d.due_at
    steps = _steps(d)
    _enter_step(ctx, steps[0] if steps else None)
    ctx.data["due_at"] = d.due_at
    return _finish(ctx, Action.RECEIVE, Status.RECEIVED)


@transaction.atomic
def dossier_receive_at_desk(
    *,
    actor: User,
    procedure: Procedure,
    applicant: Applicant,
    documents: Sequence[SubmittedDocument] = (),
    note: str = "",
    at: datetime | None = None,
) -> Dossier:
    """A walk-in applicant at the desk: the dossier is taken in and received in one go."""
    if actor.agency is None:
        raise OutOfScope()
    dossier = dossier_submit(
        actor=actor,
        procedure=procedure,
        agency=actor.agency,
        channel=Channel.DESK,
        applicant=applicant,
        documents=documents,
        note=note,
        at=at,
    )
    return dossier_receive(actor=actor, dossier=dossier, expected_version=dossier.version, at=at)


@transaction.atomic
def dossier_refuse(
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
        action=Action.REFUSE,
        expected_version=expected_version,
        reason=reason,
        at=at,
    )
    ctx.dossier.ended_at = ctx.at
    return _finish(ctx, Action.REFUSE, Status.REFUSED, reason)


@transaction.atomic
def dossier_request_supplement(
    *,
    actor: User | None,
    dossier: Dossier,
    reason: str,
    missing: Sequence[str] = (),
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """Ask the applicant for what is missing; the clock stops until they supplement."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.REQUEST_SUPPLEMENT,
        expected_version=expected_version,
        reason=reason,
        at=at,
    )
    d = ctx.dossier
    d.resume_status = d.status
    d.supplement_count += 1
    _set_clock(d, deadlines.clock_stop(_clock(d), ctx.calendar, ctx.at))
    ctx.data = {"missing": list(missing), "requested_at": ctx.at}
    return _finish(ctx, Action.REQUEST_SUPPLEMENT, Status.SUPPLEMENT_REQUESTED, reason)


@transaction.atomic
def dossier_supplement(
    *,
    actor: User | None,
    dossier: Dossier,
    documents: Sequence[SubmittedDocument] = (),
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Dossier:
    """The applicant's supplement: the dossier goes back where it was and the clock restarts
    with the budget it had left."""
    ctx = _begin(
        actor=actor,
        dossier=dossier,
        action=Action.SUPPLEMENT,
        expected_version=expected_version,
        at=at,
    )
    d = ctx.dossier
    _store_documents(d, documents, DocumentKind.INPUT, actor)
    back_to = d.resume_status or Status.SUBMITTED
    request = d.events.filter(action=Action.REQUEST_SUPPLEMENT).order_by("-seq").first()
    if back_to in CLOCK_RUNNING_STATUSES:
        if request is not None:
            d.supplement_seconds += max(0, ctx.calendar.working_seconds_between(request.at, ctx.at))
        _set_clock(d, deadlines.clock_resume(_clock(d), ctx.calendar, ctx.at))
        ctx.data["due_at"] = d.due_at
    d.resume_status = ""
    ctx.data["documents"] = len(documents)
    return _finish(ctx, Action.SUPPLEMENT, back_to, note)


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


# --- bundled procedures ---------------------------------------------------------------------


def bundle_is_done(bundle: Bundle) -> bool:
    return not bundle.dossiers.exclude(status=Status.DONE).exists()


def _agency_for_part(kind: str, commune_agency: Agency) -> Agency:
    if kind == AgencyKind.COMMUNE_COMMITTEE:
        return commune_agency
    province_path = "/" + commune_agency.unit.path.strip("/").split("/")[0] + "/"
    agency = (
        Agency.objects.filter(kind=kind, is_active=True, unit__path__startswith=province_path)
        .order_by("code")
        .first()
    )
    if agency is None:
        raise ValidationFailed(
            _("No agency of kind %(kind)s handles this part.") % {"kind": AgencyKind(kind).label}
        )
    return agency


@transaction.atomic
def bundle_submit(
    *,
    actor: User | None,
    procedure_bundle: ProcedureBundle,
    commune_agency: Agency,
    applicant: Applicant,
    channel: str = Channel.ONLINE,
    documents: Sequence[SubmittedDocument] = (),
    owner: User | None = None,
    at: datetime | None = None,
) -> Bundle:
    """One submission of bundled procedures: a linked dossier at each agency concerned."""
    bundle = Bundle.objects.create(procedure_bundle=procedure_bundle, created_at=_now(at))
    for part in procedure_bundle.parts.select_related("procedure"):
        agency = _agency_for_part(part.agency_kind, commune_agency)
        # A desk officer takes in the parts of other agencies on the system's behalf.
        is_foreign_desk = (
            actor is not None and actor.kind == UserKind.OFFICIAL and actor.agency_id != agency.pk
        )
        dossier_submit(
            actor=None if is_foreign_desk else actor,
            procedure=part.procedure,
            agency=agency,
            channel=channel,
            applicant=applicant,
            documents=documents if agency.pk == commune_agency.pk else (),
            owner=owner,
            bundle=bundle,
            at=at,
        )
    return bundle


TransitionService = Callable[..., Dossier]

__all__ = [
    "Applicant",
    "SubmittedDocument",
    "bundle_is_done",
    "bundle_submit",
    "dossier_apologize",
    "dossier_approve",
    "dossier_assign",
    "dossier_forward",
    "dossier_receive",
    "dossier_receive_at_desk",
    "dossier_refuse",
    "dossier_reject",
    "dossier_request_supplement",
    "dossier_resume",
    "dossier_return_result",
    "dossier_send_back",
    "dossier_submit",
    "dossier_supplement",
    "dossier_suspend",
    "dossier_transfer",
    "dossier_transfer_return",
    "dossier_withdraw",
]
