"""The machinery every dossier transition shares: the applicant and document inputs, the
locked-row context (`_begin` … `_finish`), the event log, the deadline clock, the scope check
and the dossier codes. The transitions themselves are in `reception` and `processing`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.catalog import cache as catalog_cache
from tinhso.catalog.models import DocumentRequirement, WorkflowStep
from tinhso.core.audit import actor_label
from tinhso.core.errors import Conflict, IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import Agency, AuditRecord, Role, User, UserKind
from tinhso.core.selectors import province_id_of, working_calendar_for_id
from tinhso.core.working_calendar import WorkingCalendar
from tinhso.dossiers import deadlines, hooks
from tinhso.dossiers.models import (
    ApplicantKind,
    Bundle,
    Dossier,
    DossierDocument,
    DossierEvent,
    StepVisit,
)
from tinhso.dossiers.states import (
    APPLICANT,
    RULES,
    SENT_BACK_ACTIONS,
    Action,
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


def bundle_is_done(bundle: Bundle) -> bool:
    return not bundle.dossiers.exclude(status=Status.DONE).exists()


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
