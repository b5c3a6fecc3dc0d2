"""Import, first half: the results it reports, and each line read and checked into the rows
it would write (nothing is written here)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone

from tinhso.catalog.models import DocumentRequirement, Procedure, ProcedureBundle, WorkflowStep
from tinhso.core.audit import SYSTEM_LABEL
from tinhso.core.models import Agency, Department, User
from tinhso.dossiers.legacy._common import (
    ACTIONS,
    APPLICANT_KINDS,
    CHANNELS,
    CODE_SHAPE,
    DOCUMENT_KINDS,
    FORMAT,
    OUTCOMES,
    RETURN_METHODS,
    STATUSES,
    TIMELINESS,
)
from tinhso.dossiers.models import (
    ApplicantKind,
    Dossier,
    DossierDocument,
    DossierEvent,
    StepVisit,
)
from tinhso.dossiers.states import (
    SENT_BACK_ACTIONS,
)

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
