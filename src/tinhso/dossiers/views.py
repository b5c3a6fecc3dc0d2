"""The officials' desk of the one-stop system: inboxes, the dossier page with the actions the
official may take, and document downloads (desk reception of a walk-in applicant is in
`reception_views`).

Views parse input, call a selector or a service, and render. A `DomainError` from a service
becomes a message on the page the official came from; every action form carries the
dossier's version, so two officials acting at once get a conflict instead of a lost action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from tinhso.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from tinhso.core.models import Role, UserKind
from tinhso.dossiers import selectors, services, uploads
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument, ReturnMethod
from tinhso.dossiers.states import RULES, Action, Channel, OpenTimeliness, Status, Timeliness
from tinhso.integration import access_log

PAGE_SIZE = 50
UPLOAD_ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"

BOX_LABELS = {
    "to_receive": gettext_lazy("To receive"),
    "to_process": gettext_lazy("To process"),
    "due_soon": gettext_lazy("Due soon"),
    "overdue": gettext_lazy("Overdue"),
    "returned": gettext_lazy("Sent back"),
    "to_return": gettext_lazy("Results to return"),
    "all": gettext_lazy("All"),
}
SLIP_LABELS = {
    "receipt": gettext_lazy("Receipt and appointment slip"),
    "refusal": gettext_lazy("Refusal notice"),
    "supplement": gettext_lazy("Supplement request"),
    "apology": gettext_lazy("Apology and new appointment"),
}
#: How the timeline shows the data an event carries (other keys are not shown).
EVENT_DATA_LABELS = {
    "channel": gettext_lazy("Channel"),
    "documents": gettext_lazy("Documents"),
    "step": gettext_lazy("Step"),
    "department": gettext_lazy("Department"),
    "assignee": gettext_lazy("Assigned to"),
    "to_agency_name": gettext_lazy("Transferred to"),
    "from_agency": gettext_lazy("Returned by"),
    "missing": gettext_lazy("Missing documents"),
    "previous_due_at": gettext_lazy("Previous appointment"),
    "due_at": gettext_lazy("Appointment"),
    "method": gettext_lazy("Returned"),
    "timeliness": gettext_lazy("Timeliness"),
    "result_summary": gettext_lazy("Result"),
}


# --- helpers --------------------------------------------------------------------------------


def _officials_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The desk is for officials; citizens follow their dossiers on the portal."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_superuser or user.kind == UserKind.OFFICIAL):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _dossier_or_404(user: Any, pk: int) -> Dossier:
    try:
        return selectors.dossier_get(user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _default_box(user: Any) -> str:
    if user.has_role(Role.DESK_OFFICER):
        return "to_receive"
    if user.has_role(Role.SPECIALIST, Role.DEPARTMENT_LEADER, Role.AGENCY_LEADER):
        return "to_process"
    return "all"


def _deadline_badge(dossier: Dossier) -> tuple[str, str]:
    """(css class, label): the open dossier's deadline status, or how a finished one ended."""
    if dossier.is_open:
        value = selectors.open_timeliness(dossier)
        return value, str(OpenTimeliness(value).label)
    if dossier.timeliness:
        return dossier.timeliness, str(Timeliness(dossier.timeliness).label)
    return "", ""


def _working_time(seconds: int, day_seconds: int) -> str:
    """`1 day 3 hours of working time left` (or overdue), in working days of the calendar."""
    days, rest = divmod(abs(seconds), day_seconds)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if not days and (minutes or not hours):
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    text = " ".join(parts)
    if seconds >= 0:
        return _("%(time)s of working time left") % {"time": text}
    return _("%(time)s of working time overdue") % {"time": text}


def _local(value: Any) -> datetime | None:
    """An event's stored datetime (ISO text in its JSON data) in local time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return timezone.localtime(value) if timezone.is_aware(value) else value
    return None


def _event_data(data: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(label, value, kind) for the data of an event worth showing on the timeline."""
    shown = []
    for key, label in EVENT_DATA_LABELS.items():
        value = data.get(key)
        if value in (None, "", [], 0):
            continue
        kind = "text"
        if key.endswith("due_at"):
            value, kind = _local(value), "datetime"
            if value is None:
                continue
        elif key == "missing":
            kind = "list"
        elif key == "channel" and value in Channel.values:
            value = Channel(value).label
        elif key == "method" and value in ReturnMethod.values:
            value = ReturnMethod(value).label
        elif key == "timeliness" and value in Timeliness.values:
            value = Timeliness(value).label
        shown.append((str(label), value, kind))
    return shown


def _status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


def _action_label(value: str) -> str:
    return str(Action(value).label) if value in Action.values else value


# --- inboxes --------------------------------------------------------------------------------


def _capped(box: str, count: int) -> bool:
    return box == "all" and count >= selectors.ALL_COUNT_CAP


@_officials_only
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    box = request.GET.get("box") or _default_box(user)
    if box not in selectors.INBOXES:
        raise Http404
    query = request.GET.get("q", "").strip()
    procedure_code = request.GET.get("procedure", "").strip()
    now = timezone.now()
    dossiers = selectors.inbox(user, box, query=query, procedure_code=procedure_code, at=now)
    counts = selectors.inbox_counts(user, at=now)
    # Only the relations the list shows: fewer joins to plan and fewer columns to read.
    listed = dossiers.select_related(None).select_related(
        "procedure", "transfer_agency", "assignee", "department"
    )
    paginator = Paginator(listed, PAGE_SIZE)
    if not query and not procedure_code:
        paginator.count = counts[box]  # the tab's count is the list's: no second count
    page = paginator.get_page(request.GET.get("page"))
    rows = [(dossier, *_deadline_badge(dossier)) for dossier in page]
    context = {
        "box": box,
        # (name, label, count, whether the count stopped at the cap: "10000+")
        "tabs": [
            (name, BOX_LABELS[name], counts[name], _capped(name, counts[name]))
            for name in selectors.INBOXES
        ],
        "capped": _capped(box, page.paginator.count) and not query and not procedure_code,
        "box_label": BOX_LABELS[box],
        "page": page,
        "rows": rows,
        "query": query,
        "procedure": procedure_code,
        "procedures": selectors.inbox_procedures(user),
        "can_receive": user.has_role(Role.DESK_OFFICER) and user.agency_id is not None,
    }
    return render(request, "dossiers/inbox.html", context)


# --- the dossier page -----------------------------------------------------------------------


def _slips(dossier: Dossier, events: list[Any]) -> list[tuple[str, str]]:
    actions = {event.action for event in events}
    kinds = []
    if dossier.received_at is not None:
        kinds.append("receipt")
    if dossier.status == Status.REFUSED:
        kinds.append("refusal")
    if Action.REQUEST_SUPPLEMENT in actions:
        kinds.append("supplement")
    if Action.APOLOGIZE in actions:
        kinds.append("apology")
    return [
        (str(SLIP_LABELS[kind]), reverse("dossiers:slip", args=[dossier.pk, kind]))
        for kind in kinds
    ]


def _action_forms(user: Any, dossier: Dossier) -> list[dict[str, Any]]:
    forms = []
    for action in selectors.actions_for(user, dossier):
        form: dict[str, Any] = {
            "action": action,
            "label": _action_label(action),
            "needs_reason": RULES[action].needs_reason,
        }
        if action in (Action.ASSIGN, Action.FORWARD):
            form["officials"] = selectors.holder_officials(dossier)
        if action == Action.ASSIGN:
            form["departments"] = selectors.holder_departments(dossier)
        elif action == Action.TRANSFER:
            form["agencies"] = selectors.transfer_targets(dossier)
        elif action == Action.REQUEST_SUPPLEMENT:
            form["requirements"] = dossier.procedure.documents.all()
        elif action == Action.APPROVE:
            form["result_summary"] = dossier.procedure.result_type
        elif action == Action.RETURN_RESULT:
            form["methods"] = ReturnMethod.choices
            form["method"] = (
                ReturnMethod.ONLINE if dossier.channel == Channel.ONLINE else ReturnMethod.DESK
            )
        elif action == Action.APOLOGIZE and dossier.due_at is not None:
            calendar = services.calendar_for_agency(dossier.agency)
            proposal = calendar.due(dossier.due_at, 3)
            form["new_due_at"] = timezone.localtime(proposal).strftime("%Y-%m-%dT%H:%M")
            form["min_due_at"] = timezone.localtime(dossier.due_at).strftime("%Y-%m-%dT%H:%M")
        forms.append(form)
    return forms


@_officials_only
@require_GET
def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = _dossier_or_404(request.user, pk)
    access_log.record_access(
        actor=request.user,
        subject_id_number=dossier.applicant_id_number,
        purpose="xem hồ sơ",
        dossier_code=dossier.code,
        source="dossier_view",
    )
    events = list(dossier.events.select_related("actor", "agency").order_by("seq"))
    timeline = [
        {
            "event": event,
            "who": (event.actor.full_name if event.actor else "") or event.actor_label,
            "action": _action_label(event.action),
            "from": _status_label(event.from_status) if event.from_status else "",
            "to": _status_label(event.to_status),
            "data": _event_data(event.data or {}),
        }
        for event in events
    ]
    remaining = selectors.remaining_working_seconds(dossier)
    remaining_text = ""
    # Once approved or rejected, the processing time is used up: what is left does not count.
    if remaining is not None and dossier.status not in (Status.APPROVED, Status.REJECTED):
        day_seconds = services.calendar_for_agency(dossier.agency).office_hours.day_seconds
        remaining_text = _working_time(remaining, day_seconds)
    badge_class, badge_label = _deadline_badge(dossier)
    documents = list(dossier.documents.select_related("verified_by"))
    context = {
        "dossier": dossier,
        "badge_class": badge_class,
        "badge_label": badge_label,
        "remaining": remaining_text,
        "clock_running": dossier.clock_running,
        "inputs": [d for d in documents if d.kind == DocumentKind.INPUT],
        "results": [d for d in documents if d.kind != DocumentKind.INPUT],
        "timeline": timeline,
        "actions": _action_forms(request.user, dossier),
        "slips": _slips(dossier, events),
        "accept": UPLOAD_ACCEPT,
    }
    return render(request, "dossiers/detail.html", context)


# --- actions --------------------------------------------------------------------------------


def _pick(queryset: QuerySet[Any], raw: str | None, message: str, *, required: bool) -> Any:
    if not raw:
        if required:
            raise ValidationFailed(message)
        return None
    try:
        return queryset.get(pk=int(raw))
    except (ValueError, queryset.model.DoesNotExist) as exc:
        raise ValidationFailed(message) from exc


def _upload(request: HttpRequest, name: str) -> UploadedFile | None:
    upload = request.FILES.get(name)
    if upload is None:
        return None
    error = uploads.upload_error(upload)
    if error:
        raise ValidationFailed(f"{upload.name}: {error}")
    return upload


def _parse_local_datetime(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed(_("Enter a valid date and time.")) from exc
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _missing_documents(request: HttpRequest) -> list[str]:
    names = [name.strip() for name in request.POST.getlist("missing") if name.strip()]
    names += [line.strip() for line in request.POST.get("missing_other", "").splitlines()]
    return [name for name in dict.fromkeys(names) if name]


def _action_inputs(action: str, request: HttpRequest, dossier: Dossier) -> dict[str, Any]:
    """The service's keyword arguments for `action`, parsed from the posted form."""
    post = request.POST
    inputs: dict[str, Any] = {}
    if RULES[action].needs_reason:
        inputs["reason"] = post.get("reason", "")
    if action == Action.REQUEST_SUPPLEMENT:
        inputs["missing"] = _missing_documents(request)
    elif action == Action.SUPPLEMENT:
        files = request.FILES.getlist("files")
        for upload in files:
            error = uploads.upload_error(upload)
            if error:
                raise ValidationFailed(f"{upload.name}: {error}")
        inputs["documents"] = [
            services.SubmittedDocument(name=PurePath(upload.name or "").stem, file=upload)
            for upload in files
        ]
        inputs["note"] = post.get("note", "")
    elif action == Action.ASSIGN:
        inputs["department"] = _pick(
            selectors.holder_departments(dossier),
            post.get("department"),
            _("Choose a department of the agency holding the dossier."),
            required=True,
        )
        inputs["assignee"] = _pick(
            selectors.holder_officials(dossier),
            post.get("assignee"),
            _("Choose an official of the agency holding the dossier."),
            required=False,
        )
    elif action == Action.FORWARD:
        inputs["assignee"] = _pick(
            selectors.holder_officials(dossier),
            post.get("assignee"),
            _("Choose an official of the agency holding the dossier."),
            required=False,
        )
        inputs["note"] = post.get("note", "")
    elif action in (Action.TRANSFER_RETURN, Action.RESUME):
        inputs["note"] = post.get("note", "")
    elif action == Action.TRANSFER:
        inputs["to_agency"] = _pick(
            selectors.transfer_targets(dossier),
            post.get("to_agency"),
            _("Choose the agency to transfer the dossier to."),
            required=True,
        )
    elif action == Action.APOLOGIZE:
        inputs["new_due_at"] = _parse_local_datetime(post.get("new_due_at", ""))
    elif action == Action.APPROVE:
        inputs["result_summary"] = post.get("result_summary", "").strip()
        inputs["result_file"] = _upload(request, "result_file")
    elif action == Action.RETURN_RESULT:
        inputs["method"] = post.get("method", ReturnMethod.DESK)
    return inputs


def _expected_version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("expected_version", ""))
    except ValueError as exc:
        raise ValidationFailed(_("The form is out of date: reload the dossier.")) from exc


@_officials_only
@require_POST
def dossier_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take one action on the dossier through its service (`dossier_<action>`)."""
    if action not in RULES:
        raise Http404
    dossier = _dossier_or_404(request.user, pk)
    service = getattr(services, f"dossier_{action}")
    try:
        dossier = service(
            actor=request.user,
            dossier=dossier,
            expected_version=_expected_version(request),
            **_action_inputs(action, request, dossier),
        )
    except Conflict as exc:
        messages.error(request, exc.message, extra_tags="conflict")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(action)s: done. The dossier is now “%(status)s”.")
            % {"action": _action_label(action), "status": _status_label(dossier.status)},
        )
        if not selectors.dossiers_visible(request.user).filter(pk=pk).exists():
            return redirect("dossiers:inbox")  # e.g. handed back after a transfer
    return redirect("dossiers:detail", pk=pk)


# --- documents and slips --------------------------------------------------------------------


@_officials_only
@require_GET
def document_download(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    """A stored document of a dossier, only to someone who can see the dossier."""
    dossier = _dossier_or_404(request.user, pk)
    document = DossierDocument.objects.filter(dossier=dossier, pk=document_pk).first()
    if document is None or not document.file:
        raise Http404
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    filename = PurePath(document.file.name).name
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=document.content_type or None,
    )


@login_required
def slip(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The printable slips (receipt, refusal, supplement request, apology) as PDF."""
    try:
        from tinhso.dossiers import slip_views
    except ModuleNotFoundError as exc:
        if exc.name != "tinhso.dossiers.slip_views":
            raise  # a dependency of the slips is missing: a real error
        raise Http404 from exc  # the slips module is not there yet
    return slip_views.slip_pdf(request, pk, kind)
