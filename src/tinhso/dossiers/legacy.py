"""Moving dossiers between one-stop systems without losing their history: JSON Lines, one
dossier per line with its documents, step visits and events (docs/formats.md, "Dossiers").

The import is all or nothing: every line is checked, and if any is wrong nothing is written
and every bad line is reported. A code already present is skipped, never overwritten, so a
file can be imported again. Imported events are history: they are inserted as they are and
fire no notification hooks (the applicants were told at the time)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Min, Prefetch, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from tinhso.catalog.models import DocumentRequirement, Procedure, ProcedureBundle, WorkflowStep
from tinhso.core.audit import SYSTEM_LABEL, actor_label
from tinhso.core.models import Agency, AuditRecord, Department, User
from tinhso.core.services import require_admin
from tinhso.dossiers.models import (
    ApplicantKind,
    Bundle,
    DocumentKind,
    Dossier,
    DossierCodeCounter,
    DossierDocument,
    DossierEvent,
    ReturnMethod,
    StepVisit,
)
from tinhso.dossiers.states import (
    SENT_BACK_ACTIONS,
    Action,
    Channel,
    Outcome,
    Status,
    Timeliness,
)

FORMAT = "tinhso.dossier/1"
#: `<agency code>-<yymmdd>-<sequence>`, the shape Tỉnh Số gives (design §3.3).
CODE_SHAPE = re.compile(r"^(?P<agency>.+)-(?P<day>\d{6})-(?P<sequence>\d+)$")
BATCH_SIZE = 500
# Enumerations as tuples: the TextChoices `values` property rebuilds its list on every call.
STATUSES = tuple(Status.values)
ACTIONS = tuple(Action.values)
CHANNELS = tuple(Channel.values)
OUTCOMES = tuple(Outcome.values)
RETURN_METHODS = tuple(ReturnMethod.values)
TIMELINESS = tuple(Timeliness.values)
APPLICANT_KINDS = tuple(ApplicantKind.values)
DOCUMENT_KINDS = tuple(DocumentKind.values)


# --- export ---------------------------------------------------------------------------------


def _instant(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def _username(user: User | None) -> str | None:
    return None if user is None else user.get_username()


def _department(department: Department | None) -> dict[str, str] | None:
    if department is None:
        return None
    return {"agency": department.agency.code, "code": department.code}


def dossier_record(dossier: Dossier, bundle_key: str | None = None) -> dict[str, Any]:
    """One dossier as its JSON Lines record (children must be prefetched in order)."""
    bundle = None
    if dossier.bundle is not None:
        bundle = {
            "procedure_bundle": dossier.bundle.procedure_bundle.code,
            "key": bundle_key or dossier.code,
            "created_at": _instant(dossier.bundle.created_at),
        }
    return {
        "format": FORMAT,
        "code": dossier.code,
        "procedure": dossier.procedure.code,
        "agency": dossier.agency.code,
        "transfer_agency": dossier.transfer_agency.code if dossier.transfer_agency else None,
        "channel": dossier.channel,
        "status": dossier.status,
        "resume_status": dossier.resume_status,
        "applicant": {
            "kind": dossier.applicant_kind,
            "name": dossier.applicant_name,
            "id_number": dossier.applicant_id_number,
            "phone": dossier.applicant_phone,
            "email": dossier.applicant_email,
            "address": dossier.applicant_address,
        },
        "owner": _username(dossier.owner),
        "note": dossier.note,
        "submitted_at": _instant(dossier.submitted_at),
        "received_at": _instant(dossier.received_at),
        "budget_seconds": dossier.budget_seconds,
        "consumed_seconds": dossier.consumed_seconds,
        "clock_running": dossier.clock_running,
        "clock_resumed_at": _instant(dossier.clock_resumed_at),
        "due_at": _instant(dossier.due_at),
        "original_due_at": _instant(dossier.original_due_at),
        "apology_count": dossier.apology_count,
        "supplement_count": dossier.supplement_count,
        "supplement_seconds": dossier.supplement_seconds,
        "current_step": dossier.current_step.position if dossier.current_step else None,
        "step_due_at": _instant(dossier.step_due_at),
        "department": _department(dossier.department),
        "assignee": _username(dossier.assignee),
        "outcome": dossier.outcome,
        "result_summary": dossier.result_summary,
        "processed_at": _instant(dossier.processed_at),
        "returned_at": _instant(dossier.returned_at),
        "return_method": dossier.return_method,
        "ended_at": _instant(dossier.ended_at),
        "timeliness": dossier.timeliness,
        "bundle": bundle,
        "documents": [
            {
                "kind": doc.kind,
                "name": doc.name,
                "requirement": doc.requirement.position if doc.requirement else None,
                "sha256": doc.sha256,
                "size": doc.size,
                "content_type": doc.content_type,
                "is_digitised": doc.is_digitised,
                "is_reused": doc.is_reused,
                "file": doc.file.name or None,
                "verified_by": _username(doc.verified_by),
                "created_at": _instant(doc.created_at),
            }
            for doc in dossier.documents.all()
        ],
        "step_visits": [
            {
                "step": visit.step.position,
                "agency": visit.agency.code,
                "department": _department(visit.department),
                "assignee": _username(visit.assignee),
                "entered_at": _instant(visit.entered_at),
                "due_at": _instant(visit.due_at),
                "left_at": _instant(visit.left_at),
            }
            for visit in dossier.step_visits.all()
        ],
        "events": [
            {
                "seq": event.seq,
                "at": _instant(event.at),
                "actor": _username(event.actor),
                "actor_label": event.actor_label,
                "agency": event.agency.code,
                "action": event.action,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "reason": event.reason,
                "data": event.data,
            }
            for event in dossier.events.all()
        ],
    }


def _bundle_keys(dossiers: models.QuerySet[Dossier]) -> dict[int, str]:
    """A submission's key is the smallest code among all its dossiers (also those outside
    the export), so every part of it carries the same key."""
    bundle_ids = dossiers.filter(bundle__isnull=False).values("bundle_id")
    rows = (
        Dossier.objects.filter(bundle_id__in=bundle_ids)
        .order_by()
        .values("bundle_id")
        .annotate(key=Min("code"))
    )
    return {row["bundle_id"]: row["key"] for row in rows}


def export_dossiers(stream: IO[str], queryset: models.QuerySet[Dossier] | None = None) -> int:
    """Write `queryset` (every dossier by default) to `stream` as JSON Lines sorted by code;
    return how many dossiers were written."""
    base = queryset if queryset is not None else Dossier.objects.all()
    keys = _bundle_keys(base)
    dossiers = (
        base.order_by("code")
        .select_related(
            "procedure",
            "agency",
            "transfer_agency",
            "owner",
            "current_step",
            "department__agency",
            "assignee",
            "bundle__procedure_bundle",
        )
        .prefetch_related(
            Prefetch(
                "documents",
                DossierDocument.objects.select_related("requirement", "verified_by").order_by("pk"),
            ),
            Prefetch(
                "step_visits",
                StepVisit.objects.select_related(
                    "step", "agency", "department__agency", "assignee"
                ).order_by("entered_at", "pk"),
            ),
            Prefetch(
                "events", DossierEvent.objects.select_related("actor", "agency").order_by("seq")
            ),
        )
    )
    count = 0
    for dossier in dossiers.iterator(chunk_size=BATCH_SIZE):
        record = dossier_record(dossier, keys.get(dossier.bundle_id or 0))
        stream.write(json.dumps(record, ensure_ascii=False, cls=DjangoJSONEncoder) + "\n")
        count += 1
    return count


# --- import: results ------------------------------------------------------------------------


@dataclass(frozen=True)
class LineError:
    """What is wrong with one line of the file (all its problems, `; `-separated)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ImportResult:
    """Dossiers created and skipped (code already present). With any error nothing was
    written, and both counts are 0."""

    created: int
    skipped: int
    errors: tuple[LineError, ...] = ()


# --- import: reading one line ---------------------------------------------------------------


class _Lookups:
    """Reference rows by their codes, each fetched once per import."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _get(self, key: tuple[Any, ...], fetch: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fetch()
        return self._cache[key]

    def procedure(self, code: str) -> Procedure | None:
        return self._get(("procedure", code), lambda: Procedure.objects.filter(code=code).first())

    def agency(self, code: str) -> Agency | None:
        return self._get(
            ("agency", code),
            lambda: Agency.objects.select_related("unit").filter(code=code).first(),
        )

    def user(self, username: str) -> User | None:
        return self._get(("user", username), lambda: User.objects.filter(username=username).first())

    def department(self, agency_code: str, code: str) -> Department | None:
        return self._get(
            ("department", agency_code, code),
            lambda: (
                Department.objects.select_related("agency")
                .filter(agency__code=agency_code, code=code)
                .first()
            ),
        )

    def procedure_bundle(self, code: str) -> ProcedureBundle | None:
        return self._get(
            ("bundle", code), lambda: ProcedureBundle.objects.filter(code=code).first()
        )

    def step(self, procedure: Procedure, position: int) -> WorkflowStep | None:
        steps = self._get(
            ("steps", procedure.pk),
            lambda: {s.position: s for s in WorkflowStep.objects.filter(procedure=procedure)},
        )
        return steps.get(position)

    def requirement(self, procedure: Procedure, position: int) -> DocumentRequirement | None:
        def fetch() -> dict[int, DocumentRequirement]:
            found: dict[int, DocumentRequirement] = {}
            for r in DocumentRequirement.objects.filter(procedure=procedure).order_by("-pk"):
                found[r.position] = r  # the first one wins where positions repeat
            return found

        return self._get(("requirements", procedure.pk), fetch).get(position)


_MISSING = object()
_BIG = 2_147_483_647
_SMALL = 32_767


class _Fields:
    """Typed reads from one JSON object of a line. Each problem is noted with its place
    (`events[3].seq`); keys never read are reported as unknown, so a misspelt field is an
    error rather than a silently lost value."""

    def __init__(
        self, data: dict[str, Any], path: str, problems: list[str], lookups: _Lookups
    ) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.lookups = lookups
        self.read: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where(key)}: {message}")

    def raw(self, key: str, *, required: bool = False) -> Any:
        self.read.add(key)
        value = self.data.get(key, _MISSING)
        if required and (value is _MISSING or value is None):
            self.problem(key, "required")
            return _MISSING
        return value

    def text(self, key: str, *, max_length: int | None = None, required: bool = False) -> str:
        value = self.raw(key, required=required)
        if value is _MISSING or value is None:
            return ""
        if not isinstance(value, str):
            self.problem(key, "must be a string")
            return ""
        if required and not value.strip():
            self.problem(key, "must not be empty")
        if max_length is not None and len(value) > max_length:
            self.problem(key, f"longer than {max_length} characters")
        return value

    def choice(self, key: str, choices: tuple[str, ...], *, required: bool = False) -> str:
        value = self.text(key, required=required)
        if value and value not in choices:
            self.problem(key, f"unknown value {value!r} (one of: {', '.join(choices)})")
            return ""
        return value

    def integer(
        self, key: str, *, maximum: int = _BIG, required: bool = False, nullable: bool = False
    ) -> int | None:
        value = self.raw(key, required=required)
        if value is _MISSING or value is None:
            return None if nullable or required else 0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            self.problem(key, f"must be a whole number from 0 to {maximum}")
            return None
        return value

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if value is _MISSING or value is None:
            return False
        if not isinstance(value, bool):
            self.problem(key, "must be true or false")
            return False
        return value

    def instant(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.raw(key, required=required)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, str):
            self.problem(key, "must be an ISO 8601 date-time string")
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.problem(key, f"not an ISO 8601 date-time: {value!r}")
            return None
        if timezone.is_naive(parsed):
            self.problem(key, f"no UTC offset in {value!r} (write e.g. {value}+07:00)")
            return None
        return parsed

    def obj(self, key: str, *, required: bool = False) -> _Fields | None:
        value = self.raw(key, required=required)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, dict):
            self.problem(key, "must be an object")
            return None
        return _Fields(value, self.where(key), self.problems, self.lookups)

    def items(self, key: str, *, required: bool = False) -> list[_Fields]:
        value = self.raw(key, required=required)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            self.problem(key, "must be a list")
            return []
        result = []
        for index, item in enumerate(value):
            place = f"{self.where(key)}[{index}]"
            if isinstance(item, dict):
                result.append(_Fields(item, place, self.problems, self.lookups))
            else:
                self.problems.append(f"{place}: must be an object")
        return result

    def agency(self, key: str, *, required: bool = False) -> Agency | None:
        code = self.text(key, required=required)
        if not code:
            return None
        agency = self.lookups.agency(code)
        if agency is None:
            self.problem(key, f"unknown agency code {code!r}")
        return agency

    def user(self, key: str) -> User | None:
        username = self.text(key)
        if not username:
            return None
        user = self.lookups.user(username)
        if user is None:
            self.problem(key, f"unknown username {username!r}")
        return user

    def department(self, key: str) -> Department | None:
        ref = self.obj(key)
        if ref is None:
            return None
        agency_code = ref.text("agency", required=True)
        code = ref.text("code", required=True)
        ref.done()
        if not (agency_code and code):
            return None
        department = self.lookups.department(agency_code, code)
        if department is None:
            self.problem(key, f"no department {code!r} in agency {agency_code!r}")
        return department

    def step(
        self, key: str, procedure: Procedure | None, *, required: bool = False
    ) -> WorkflowStep | None:
        position = self.integer(key, maximum=_SMALL, required=required, nullable=True)
        if position is None or procedure is None:
            return None
        step = self.lookups.step(procedure, position)
        if step is None:
            self.problem(key, f"procedure {procedure.code} has no workflow step {position}")
        return step

    def done(self) -> None:
        for key in self.data:
            if key not in self.read:
                self.problem(key, "unknown field")


def _max_length(model: type[models.Model], name: str) -> int | None:
    return model._meta.get_field(name).max_length


def _file_path(f: _Fields) -> str:
    path = f.text("file", max_length=_max_length(DossierDocument, "file"))
    if path and (path.startswith(("/", "\\")) or ".." in path.replace("\\", "/").split("/")):
        f.problem("file", "must be a path relative to the media directory, without '..'")
        return ""
    return path


@dataclass
class _Planned:
    """A valid line, ready to insert."""

    line: int
    dossier: Dossier
    documents: list[DossierDocument]
    visits: list[StepVisit]
    events: list[DossierEvent]
    bundle: tuple[str, ProcedureBundle, datetime | None] | None
    counter: tuple[Agency, date, int] | None


def _counter_of(code: str, lookups: _Lookups) -> tuple[Agency, date, int] | None:
    """The code counter an imported code advances; None for other systems' code shapes."""
    match = CODE_SHAPE.match(code)
    if match is None:
        return None
    agency = lookups.agency(match["agency"])
    try:
        day = datetime.strptime(match["day"], "%y%m%d").date()
    except ValueError:
        return None
    if agency is None:
        return None
    return agency, day, int(match["sequence"])


def _parse_line(raw: str, number: int, lookups: _Lookups) -> tuple[_Planned | None, list[str]]:
    problems: list[str] = []
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return None, [f"not valid JSON ({exc})"]
    if not isinstance(data, dict):
        return None, ["a line must be one JSON object"]
    f = _Fields(data, "", problems, lookups)
    fmt = f.raw("format", required=True)
    if fmt is not _MISSING and fmt != FORMAT:
        f.problem("format", f"expected {FORMAT!r}, found {fmt!r}")
    code = f.text("code", required=True, max_length=_max_length(Dossier, "code"))
    procedure_code = f.text("procedure", required=True)
    procedure = lookups.procedure(procedure_code) if procedure_code else None
    if procedure_code and procedure is None:
        f.problem("procedure", f"unknown procedure code {procedure_code!r}")
    agency = f.agency("agency", required=True)
    status = f.choice("status", STATUSES, required=True)

    applicant = f.obj("applicant", required=True)
    person: dict[str, str] = {}
    if applicant is not None:
        person["kind"] = applicant.choice("kind", APPLICANT_KINDS) or ApplicantKind.CITIZEN
        for key in ("name", "id_number", "phone", "email", "address"):
            person[key] = applicant.text(
                key,
                required=key in ("name", "id_number"),
                max_length=_max_length(Dossier, f"applicant_{key}"),
            )
        applicant.done()

    dossier = Dossier(
        code=code,
        procedure=procedure,
        agency=agency,
        unit_path=agency.unit.path if agency else "",
        transfer_agency=f.agency("transfer_agency"),
        channel=f.choice("channel", CHANNELS, required=True),
        status=status,
        resume_status=f.choice("resume_status", STATUSES),
        applicant_kind=person.get("kind", ApplicantKind.CITIZEN),
        applicant_name=person.get("name", ""),
        applicant_id_number=person.get("id_number", ""),
        applicant_phone=person.get("phone", ""),
        applicant_email=person.get("email", ""),
        applicant_address=person.get("address", ""),
        owner=f.user("owner"),
        note=f.text("note"),
        submitted_at=f.instant("submitted_at", required=True),
        received_at=f.instant("received_at"),
        budget_seconds=f.integer("budget_seconds"),
        consumed_seconds=f.integer("consumed_seconds"),
        clock_running=f.boolean("clock_running"),
        clock_resumed_at=f.instant("clock_resumed_at"),
        due_at=f.instant("due_at"),
        original_due_at=f.instant("original_due_at"),
        apology_count=f.integer("apology_count", maximum=_SMALL),
        supplement_count=f.integer("supplement_count", maximum=_SMALL),
        supplement_seconds=f.integer("supplement_seconds"),
        current_step=f.step("current_step", procedure),
        step_due_at=f.instant("step_due_at"),
        department=f.department("department"),
        assignee=f.user("assignee"),
        outcome=f.choice("outcome", OUTCOMES),
        result_summary=f.text("result_summary"),
        processed_at=f.instant("processed_at"),
        returned_at=f.instant("returned_at"),
        return_method=f.choice("return_method", RETURN_METHODS),
        ended_at=f.instant("ended_at"),
        timeliness=f.choice("timeliness", TIMELINESS),
    )

    bundle = None
    ref = f.obj("bundle")
    if ref is not None:
        bundle_code = ref.text("procedure_bundle", required=True)
        key = ref.text("key", required=True)
        created_at = ref.instant("created_at")
        ref.done()
        procedure_bundle = lookups.procedure_bundle(bundle_code) if bundle_code else None
        if bundle_code and procedure_bundle is None:
            ref.problem("procedure_bundle", f"unknown procedure bundle code {bundle_code!r}")
        if procedure_bundle is not None and key:
            bundle = (key, procedure_bundle, created_at)

    documents = []
    for d in f.items("documents"):
        position = d.integer("requirement", maximum=_SMALL, nullable=True)
        requirement = None
        if position is not None and procedure is not None:
            requirement = lookups.requirement(procedure, position)
            if requirement is None:
                d.problem("requirement", f"procedure {procedure.code} has no document {position}")
        document = DossierDocument(
            kind=d.choice("kind", DOCUMENT_KINDS, required=True),
            name=d.text("name", required=True, max_length=_max_length(DossierDocument, "name")),
            requirement=requirement,
            sha256=d.text("sha256", max_length=_max_length(DossierDocument, "sha256")),
            size=d.integer("size"),
            content_type=d.text(
                "content_type", max_length=_max_length(DossierDocument, "content_type")
            ),
            is_digitised=d.boolean("is_digitised"),
            is_reused=d.boolean("is_reused"),
            verified_by=d.user("verified_by"),
            created_at=d.instant("created_at") or dossier.submitted_at,
            file=_file_path(d),
        )
        d.done()
        documents.append(document)

    visits = []
    for v in f.items("step_visits"):
        visits.append(
            StepVisit(
                step=v.step("step", procedure, required=True),
                agency=v.agency("agency", required=True),
                department=v.department("department"),
                assignee=v.user("assignee"),
                entered_at=v.instant("entered_at", required=True),
                due_at=v.instant("due_at"),
                left_at=v.instant("left_at"),
            )
        )
        v.done()

    events = []
    event_items = f.items("events", required=True)
    if not event_items and isinstance(data.get("events"), list):
        f.problem("events", "at least one event (the submission) is needed")
    for index, e in enumerate(event_items):
        seq = e.integer("seq", required=True, nullable=True)
        if seq is not None and seq != index + 1:
            e.problem("seq", f"expected {index + 1}, found {seq} (seq runs 1..n without gaps)")
        # Officials who left the old system have no account here: their name stays.
        username = e.text("actor")
        actor = lookups.user(username) if username else None
        label = e.text("actor_label", max_length=_max_length(DossierEvent, "actor_label"))
        event_agency = e.agency("agency") or agency
        data_value = e.raw("data")
        if data_value is _MISSING or data_value is None:
            data_value = {}
        elif not isinstance(data_value, dict):
            e.problem("data", "must be an object")
        events.append(
            DossierEvent(
                seq=seq or 0,
                at=e.instant("at", required=True),
                actor=actor,
                actor_label=label or username or SYSTEM_LABEL,
                agency=event_agency,
                action=e.choice("action", ACTIONS, required=True),
                from_status=e.choice("from_status", STATUSES),
                to_status=e.choice("to_status", STATUSES, required=True),
                reason=e.text("reason"),
                data=data_value,
            )
        )
        e.done()
    if events and status and events[-1].to_status and events[-1].to_status != status:
        f.problem(
            "events",
            f"the last event leaves the dossier {events[-1].to_status!r}, "
            f"but its status is {status!r}",
        )
    f.done()
    if problems:
        return None, problems
    dossier.version = len(events)
    dossier.sent_back = bool(events) and events[-1].action in SENT_BACK_ACTIONS
    counter = _counter_of(code, lookups)
    return _Planned(number, dossier, documents, visits, events, bundle, counter), []


# --- import: writing ------------------------------------------------------------------------


class _Rejected(Exception):
    """Raised inside the transaction to roll everything back when a line is bad."""


@dataclass
class _Importer:
    actor: User | None
    source: str
    lookups: _Lookups = field(default_factory=_Lookups)
    errors: list[LineError] = field(default_factory=list)
    created: int = 0
    skipped: int = 0
    codes: dict[str, int] = field(default_factory=dict)
    bundles: dict[str, Bundle] = field(default_factory=dict)
    counters: dict[tuple[int, date], int] = field(default_factory=dict)

    def run(self, lines: Iterable[tuple[int, str]]) -> None:
        batch: list[_Planned] = []
        for number, raw in lines:
            planned, problems = _parse_line(raw, number, self.lookups)
            if planned is not None:
                first = self.codes.setdefault(planned.dossier.code, number)
                if first != number:
                    problems = [f"code: {planned.dossier.code!r} is already on line {first}"]
            if problems or planned is None:
                self.errors.append(LineError(number, "; ".join(problems)))
            elif not self.errors:  # after the first bad line, only check the rest
                batch.append(planned)
                if len(batch) >= BATCH_SIZE:
                    self._write(batch)
                    batch = []
        if batch and not self.errors:
            self._write(batch)
        if not self.errors:
            self._advance_counters()

    def _bundle_for(self, planned: _Planned, present_bundle_id: int | None) -> Bundle:
        """The submission this line's bundle key stands for: the one already met in this
        import, else the one of a dossier already here (this one, or the one whose code is
        the key), else a new one."""
        assert planned.bundle is not None
        key, procedure_bundle, created_at = planned.bundle
        bundle = self.bundles.get(key)
        if bundle is None:
            bundle_id = present_bundle_id or (
                Dossier.objects.filter(code=key, bundle__isnull=False)
                .values_list("bundle_id", flat=True)
                .first()
            )
            if bundle_id is not None:
                bundle = Bundle.objects.select_related("procedure_bundle").get(pk=bundle_id)
            else:
                bundle = Bundle.objects.create(
                    procedure_bundle=procedure_bundle,
                    created_at=created_at or planned.dossier.submitted_at,
                )
            self.bundles[key] = bundle
        if bundle.procedure_bundle_id != procedure_bundle.pk:
            self._error(
                planned,
                f"bundle: key {key!r} is a {bundle.procedure_bundle.code} submission here, "
                f"not {procedure_bundle.code}",
            )
        elif present_bundle_id is not None and present_bundle_id != bundle.pk:
            self._error(planned, f"bundle: key {key!r} links dossiers of different submissions")
        return bundle

    def _error(self, planned: _Planned, message: str) -> None:
        self.errors.append(LineError(planned.line, message))

    def _write(self, batch: list[_Planned]) -> None:
        existing = dict(
            Dossier.objects.filter(code__in=[p.dossier.code for p in batch]).values_list(
                "code", "bundle_id"
            )
        )
        new = []
        # Present dossiers first: their submissions are the ones new parts join.
        for planned in batch:
            if planned.dossier.code not in existing:
                new.append(planned)
                continue
            self.skipped += 1
            bundle_id = existing[planned.dossier.code]
            if planned.bundle is not None and bundle_id is not None:
                self._bundle_for(planned, bundle_id)
        for planned in new:
            if planned.bundle is not None:
                planned.dossier.bundle = self._bundle_for(planned, None)
        if self.errors or not new:
            return
        Dossier.objects.bulk_create([p.dossier for p in new])
        documents, visits, events, audit = [], [], [], []
        dossier_type = ContentType.objects.get_for_model(Dossier)
        label = actor_label(self.actor)
        for planned in new:
            dossier = planned.dossier
            for child in (*planned.documents, *planned.visits, *planned.events):
                child.dossier = dossier
            documents += planned.documents
            visits += planned.visits
            events += planned.events
            audit.append(
                AuditRecord(
                    actor=self.actor if self.actor is not None and self.actor.pk else None,
                    actor_label=label,
                    action="dossier.import",
                    object_type=dossier_type,
                    object_id=str(dossier.pk),
                    object_repr=dossier.code,
                    after={
                        "code": dossier.code,
                        "status": dossier.status,
                        "events": len(planned.events),
                    },
                    agency_id=dossier.agency_id,
                    unit_path=dossier.unit_path,
                    source=self.source,
                )
            )
            if planned.counter is not None:
                agency, day, sequence = planned.counter
                key = (agency.pk, day)
                self.counters[key] = max(self.counters.get(key, 0), sequence)
        DossierDocument.objects.bulk_create(documents)
        StepVisit.objects.bulk_create(visits)
        DossierEvent.objects.bulk_create(events)  # inserts only: events are append-only
        AuditRecord.objects.bulk_create(audit)
        self.created += len(new)

    def _advance_counters(self) -> None:
        """New codes for an agency and day continue after the imported ones."""
        for (agency_id, day), sequence in sorted(self.counters.items()):
            counter, created = DossierCodeCounter.objects.get_or_create(
                agency_id=agency_id, day=day, defaults={"last": sequence}
            )
            if not created and counter.last < sequence:
                DossierCodeCounter.objects.filter(pk=counter.pk).update(
                    last=Greatest("last", Value(sequence))
                )


def _numbered_lines(stream: IO[str] | IO[bytes]) -> Iterator[tuple[int, str] | LineError]:
    for number, raw in enumerate(stream, start=1):
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield LineError(number, f"not UTF-8 ({exc.reason} at byte {exc.start})")
                continue
        else:
            text = raw
        if number == 1:
            text = text.removeprefix("\ufeff")
        if text.strip():
            yield number, text


def import_dossiers(
    stream: IO[str] | IO[bytes], *, actor: User | None = None, source: str = "cli"
) -> ImportResult:
    """Import the JSON Lines in `stream` in one transaction: dossiers whose code is already
    present are skipped; if any line is wrong nothing is written and every bad line is in
    `errors`. Administrators only (`actor=None` is the system, e.g. the console command)."""
    require_admin(actor)
    importer = _Importer(actor=actor, source=source)

    def lines() -> Iterator[tuple[int, str]]:
        for item in _numbered_lines(stream):
            if isinstance(item, LineError):
                importer.errors.append(item)
            else:
                yield item

    try:
        with transaction.atomic():
            importer.run(lines())
            if importer.errors:
                raise _Rejected()
    except _Rejected:
        errors = sorted(importer.errors, key=lambda e: e.line)
        return ImportResult(created=0, skipped=0, errors=tuple(errors))
    return ImportResult(created=importer.created, skipped=importer.skipped)


__all__ = [
    "FORMAT",
    "ImportResult",
    "LineError",
    "dossier_record",
    "export_dossiers",
    "import_dossiers",
]
