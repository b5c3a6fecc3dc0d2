"""Submission and reception: a dossier enters (online, at the desk, by post, or as part of
a bundle), is received or refused, and is supplemented."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from tinhso.catalog.models import Procedure, ProcedureBundle
from tinhso.core.errors import OutOfScope, ValidationFailed
from tinhso.core.models import Agency, AgencyKind, Role, User, UserKind
from tinhso.dossiers import deadlines
from tinhso.dossiers.models import (
    Bundle,
    DocumentKind,
    Dossier,
)
from tinhso.dossiers.services._core import (
    Applicant,
    SubmittedDocument,
    _append_event,
    _begin,
    _clock,
    _Context,
    _enter_step,
    _finish,
    _next_code,
    _now,
    _set_clock,
    _steps,
    _store_documents,
    calendar_for_agency,
    signed_in_with_eid,
)
from tinhso.dossiers.states import (
    CLOCK_RUNNING_STATUSES,
    Action,
    Channel,
    Status,
)

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


# --- bundled procedures ---------------------------------------------------------------------


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
