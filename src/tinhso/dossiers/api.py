"""JSON API of the dossier engine: submission, lists, detail, history, and one endpoint per
transition. Handlers parse input and call the same services as the desk pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from tinhso.catalog.models import Procedure
from tinhso.core.errors import OutOfScope, ValidationFailed
from tinhso.core.models import Agency, User
from tinhso.dossiers import selectors, services
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.schemas import DossierDetailOut, DossierOut, EventOut, SubmitIn, TransitionIn
from tinhso.dossiers.states import RULES, Action

router = Router(tags=["dossiers"])


def _get(request: HttpRequest, code: str) -> Dossier:
    return selectors.dossier_get(request.user, code=code)


def _get_for_transition(request: HttpRequest, code: str) -> Dossier:
    """The dossier to act on, without the detail's joins: the service locks and reloads it
    with what the transition needs, and the answer is the dossier the service returns."""
    return selectors.dossier_get(request.user, code=code, related=False)


def _lookup(model: Any, value: str | None, field: str, label: str) -> Any:
    if not value:
        raise ValidationFailed(_("%(label)s is required.") % {"label": label}, field=field)
    queryset = model if isinstance(model, QuerySet) else model.objects.all()
    found = queryset.filter(**{field: value}).first()
    if found is None:
        raise ValidationFailed(
            _("Unknown %(label)s: %(value)s.") % {"label": label, "value": value}, field=field
        )
    return found


@router.get("/dossiers", response=list[DossierOut])
@paginate(LimitOffsetPagination)
def list_dossiers(request: HttpRequest, box: str = "all", q: str = "", procedure: str = ""):
    """Dossiers in the caller's scope; `box` is an inbox (to_receive, to_process, due_soon,
    overdue, returned, to_return, all)."""
    if box not in selectors.INBOXES:
        raise ValidationFailed(_("Unknown inbox."), field="box")
    return selectors.inbox(request.user, box, query=q, procedure_code=procedure)


@router.post("/dossiers", response={201: DossierDetailOut})
def submit_dossier(request: HttpRequest, payload: SubmitIn):
    """Submit a dossier. A desk officer taking in a walk-in applicant uses channel `desk`,
    which also receives it; citizens submit `online` for themselves."""
    procedure = _lookup(Procedure, payload.procedure_code, "code", _("procedure"))
    agency = _lookup(Agency, payload.agency_code, "code", _("agency"))
    applicant = services.Applicant(**payload.applicant.dict())
    user: User = request.user  # type: ignore[assignment]
    if payload.channel == "desk":
        if user.agency_id != agency.pk:
            raise OutOfScope(_("You can only receive dossiers for your own agency."))
        dossier = services.dossier_receive_at_desk(
            actor=user, procedure=procedure, applicant=applicant, note=payload.note
        )
    else:
        dossier = services.dossier_submit(
            actor=user,
            procedure=procedure,
            agency=agency,
            channel=payload.channel,
            applicant=applicant,
            note=payload.note,
        )
    # The service's own dossier carries its procedure and agency: no read-back needed.
    return Status(201, dossier)


@router.get("/dossiers/{code}", response=DossierDetailOut)
def get_dossier(request: HttpRequest, code: str):
    return _get(request, code)


@router.get("/dossiers/{code}/events", response=list[EventOut])
def dossier_events(request: HttpRequest, code: str):
    return _get(request, code).events.select_related("agency").order_by("seq")


def _transition_kwargs(action: str, payload: TransitionIn, dossier: Dossier) -> dict[str, Any]:
    """The service's keyword arguments for `action`: the same rules (RULES) and the same
    choices (the holding agency's departments and officials, the transfer targets) as the
    desk's forms."""
    kwargs: dict[str, Any] = {"expected_version": payload.expected_version}
    if RULES[action].needs_reason:
        kwargs["reason"] = payload.reason
    if action in {Action.SUPPLEMENT, Action.TRANSFER_RETURN, Action.RESUME, Action.FORWARD}:
        kwargs["note"] = payload.note
    if action == Action.REQUEST_SUPPLEMENT:
        kwargs["missing"] = payload.missing
    if action == Action.ASSIGN:
        kwargs["department"] = _lookup(
            selectors.holder_departments(dossier),
            payload.department_code,
            "code",
            _("department"),
        )
    if action in {Action.ASSIGN, Action.FORWARD} and payload.assignee_username:
        kwargs["assignee"] = _lookup(
            selectors.holder_officials(dossier),
            payload.assignee_username,
            "username",
            _("official"),
        )
    if action == Action.TRANSFER:
        kwargs["to_agency"] = _lookup(
            selectors.transfer_targets(dossier), payload.to_agency_code, "code", _("agency")
        )
    if action == Action.APOLOGIZE:
        if payload.new_due_at is None:
            raise ValidationFailed(_("Give the new appointment."), field="new_due_at")
        kwargs["new_due_at"] = payload.new_due_at
    if action == Action.APPROVE:
        kwargs["result_summary"] = payload.result_summary
    if action == Action.RETURN_RESULT:
        kwargs["method"] = payload.method or "desk"
    return kwargs


SERVICES: dict[str, Callable[..., Dossier]] = {
    Action.RECEIVE: services.dossier_receive,
    Action.REFUSE: services.dossier_refuse,
    Action.REQUEST_SUPPLEMENT: services.dossier_request_supplement,
    Action.SUPPLEMENT: services.dossier_supplement,
    Action.ASSIGN: services.dossier_assign,
    Action.FORWARD: services.dossier_forward,
    Action.SEND_BACK: services.dossier_send_back,
    Action.TRANSFER: services.dossier_transfer,
    Action.TRANSFER_RETURN: services.dossier_transfer_return,
    Action.SUSPEND: services.dossier_suspend,
    Action.RESUME: services.dossier_resume,
    Action.APOLOGIZE: services.dossier_apologize,
    Action.APPROVE: services.dossier_approve,
    Action.REJECT: services.dossier_reject,
    Action.RETURN_RESULT: services.dossier_return_result,
    Action.WITHDRAW: services.dossier_withdraw,
}


def _register(action: str, service: Callable[..., Dossier]) -> None:
    path = f"/dossiers/{{code}}/{action.replace('_', '-')}"

    def handler(request: HttpRequest, code: str, payload: TransitionIn):
        dossier = _get_for_transition(request, code)
        kwargs = _transition_kwargs(action, payload, dossier)
        # The service answers with the locked, updated dossier (procedure, agency and step
        # loaded with it): it is the answer, with no read-back.
        return service(actor=request.user, dossier=dossier, **kwargs)

    handler.__name__ = f"dossier_{action}"
    router.post(
        path,
        response=DossierDetailOut,
        summary=str(Action(action).label),
        operation_id=f"dossier_{action}",
    )(handler)


for _action, _service in SERVICES.items():
    _register(_action, _service)
