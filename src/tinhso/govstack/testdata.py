"""Loads GovStack's published test data (`test/openAPI/test-data.json` of
GovStackWorkingGroup/bb-registration) into a fresh database, through the same services as
everything else, so the building block's Cucumber suite can run against it:

- one test province, agency (`GOVSTACK.TEST`) with a one-stop desk and a registry
  department, and a four-step workflow for every service;
- every service as a procedure (its id as the procedure code) with its eForms;
- the Information Mediator client of the data (`informationMediatorClientHeader`) as an API
  client with the `govstack` scope, acting as desk officer, specialist and agency leader;
- the operators (assigneeId) as officials of the registry;
- every application and task as a dossier submitted, received and assigned to its operator,
  so each waits at its first processing step; the task ids name those steps.

Services that applications or tasks refer to but the data does not list are created from
the name they carry. The statistics feature asks for the registration "MCTS" (the example of
the statistics specification), which the data lacks: it is added as a service too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from tinhso.catalog.models import Procedure
from tinhso.catalog.services import catalog_import
from tinhso.core.models import (
    AdministrativeUnit,
    Agency,
    AgencyKind,
    Role,
    UnitLevel,
    User,
)
from tinhso.core.services import agency_save, department_save, official_save, unit_create
from tinhso.dossiers import services as dossier_services
from tinhso.govstack import services
from tinhso.govstack.models import GovStackId, Kind
from tinhso.integration.clients import api_client_create, technical_user
from tinhso.integration.models import ApiClient

UNIT_CODE = "GOVSTACK"
AGENCY_CODE = "GOVSTACK.TEST"
FIELD_CODE = "govstack"
STATISTICS_EXAMPLE = "MCTS"
PERMISSIVE_SCHEMA: dict[str, Any] = {"type": "object"}
WORKFLOW = [
    {"name": "Reception", "role": "desk_officer", "department": "desk", "share_percent": "10"},
    {"name": "Registration", "role": "specialist", "department": "registry", "share_percent": "50"},
    {"name": "Approval", "role": "agency_leader", "department": "registry", "share_percent": "30"},
    {"name": "Return", "role": "desk_officer", "department": "desk", "share_percent": "10"},
]


class AlreadyLoaded(Exception):
    pass


@dataclass
class LoadResult:
    services: int = 0
    eforms: int = 0
    operators: int = 0
    files: int = 0
    tasks: int = 0
    notes: list[str] = field(default_factory=list)


def _procedure_entry(service_id: str, name: str) -> dict[str, Any]:
    return {
        "code": service_id,
        "name": name,
        "field": FIELD_CODE,
        "level": "province",
        "agency_kinds": [],
        "agencies": [AGENCY_CODE],
        "processing_days": "5",
        "online": "full",
        "is_essential": False,
        "result_type": "",
        "legal_basis": "",
        "conditions": "",
        "fees": [],
        "documents": [],
        "workflow": WORKFLOW,
    }


class _Loader:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.result = LoadResult()
        self.operators: dict[str, User] = {}

    def run(self) -> LoadResult:
        header = self.data["informationMediatorClientHeader"]["value"]
        if (
            ApiClient.objects.filter(name=header).exists()
            or Agency.objects.filter(code=AGENCY_CODE).exists()
        ):
            raise AlreadyLoaded(header)
        self._organisation()
        self._catalog()
        client = api_client_create(
            actor=None,
            name=header,
            scopes=["govstack"],
            rate_limit_per_minute=6000,
            agency=self.agency,
            roles=[Role.DESK_OFFICER, Role.SPECIALIST, Role.AGENCY_LEADER],
            source="console",
        )
        self.actor = technical_user(client)
        for app in self.data.get("applications", []):
            self._application(app)
        for task in self.data.get("tasks", []):
            self._task(task)
        return self.result

    def _organisation(self) -> None:
        unit = AdministrativeUnit.objects.filter(code=UNIT_CODE).first() or unit_create(
            actor=None,
            code=UNIT_CODE,
            name="GovStack test province",
            level=UnitLevel.PROVINCE,
            source="console",
        )
        self.agency = agency_save(
            actor=None,
            code=AGENCY_CODE,
            name="GovStack test agency",
            kind=AgencyKind.OTHER,
            unit=unit,
            source="console",
        )
        department_save(
            actor=None, agency=self.agency, code="desk", name="One-stop desk", is_one_stop_desk=True
        )
        self.registry = department_save(
            actor=None, agency=self.agency, code="registry", name="Registry"
        )

    def _wanted_services(self) -> dict[str, str]:
        wanted = {s["id"]: s["name"] for s in self.data.get("services", [])}
        for row in [*self.data.get("applications", []), *self.data.get("tasks", [])]:
            wanted.setdefault(row["serviceId"], row.get("serviceName") or row["serviceId"])
        wanted.setdefault(STATISTICS_EXAMPLE.lower(), STATISTICS_EXAMPLE)
        return wanted

    def _catalog(self) -> None:
        wanted = self._wanted_services()
        catalog_import(
            actor=None,
            document={
                "format": "tinhso.catalog/1",
                "fields": [{"code": FIELD_CODE, "name": "GovStack test services"}],
                "procedures": [_procedure_entry(sid, name) for sid, name in wanted.items()],
                "bundles": [],
            },
            source="console",
        )
        listed = {s["id"]: s for s in self.data.get("services", [])}
        eform_ids: dict[str, list[str]] = {}
        for row in [*self.data.get("applications", []), *self.data.get("tasks", [])]:
            eid = row.get("eformId") or row.get("eFormId")
            if eid:
                eform_ids.setdefault(row["serviceId"], [])
                if eid not in eform_ids[row["serviceId"]]:
                    eform_ids[row["serviceId"]].append(eid)
        for sid in wanted:
            procedure = Procedure.objects.get(code=sid)
            spec = listed.get(sid, {})
            forms = spec.get("eForms") or []
            ids = [f["eFormId"] for f in forms]
            for form in forms:
                self._eform(form, procedure)
            for eid in eform_ids.get(sid, []):
                if eid not in ids:
                    self._eform(
                        {"eFormId": eid, "name": "FORM", "schema": PERMISSIVE_SCHEMA}, procedure
                    )
                    ids.append(eid)
            GovStackId.objects.create(
                kind=Kind.SERVICE,
                value=sid,
                procedure=procedure,
                data={
                    "version": spec.get("version") or "1",
                    "type": spec.get("type") or "None",
                    "isExecutable": spec.get("isExecutable", True),
                    "isClosed": spec.get("isClosed", False),
                    "description": spec.get("description") or "",
                    "serviceBody": spec.get("serviceBody") or [],
                    "eForms": ids,
                },
            )
            self.result.services += 1

    def _eform(self, form: dict[str, Any], procedure: Procedure) -> None:
        if GovStackId.objects.filter(kind=Kind.EFORM, value=form["eFormId"]).exists():
            return  # the data gives one eForm id to several services: the first one owns it
        GovStackId.objects.create(
            kind=Kind.EFORM,
            value=form["eFormId"],
            procedure=procedure,
            data={
                "name": form.get("name") or "FORM",
                "description": form.get("description") or "",
                "version": form.get("version") or "1",
                "latest": form.get("latest", True),
                "schema": form.get("schema") or PERMISSIVE_SCHEMA,
            },
        )
        self.result.eforms += 1

    def _operator(self, assignee_id: str, name: str) -> User:
        if assignee_id in self.operators:
            return self.operators[assignee_id]
        official = official_save(
            actor=None,
            username=f"govstack-{assignee_id}"[:150],
            full_name=name or assignee_id,
            agency=self.agency,
            department=self.registry,
            roles=[Role.SPECIALIST],
            source="console",
        )
        GovStackId.objects.create(kind=Kind.OPERATOR, value=assignee_id, official=official)
        self.operators[assignee_id] = official
        self.result.operators += 1
        return official

    def _file(
        self,
        *,
        file_id: str,
        service_id: str,
        applicant_id: str,
        name: str,
        eform: str,
        assignee: User,
    ):
        binding = services.application_submit(
            actor=self.actor,
            procedure=Procedure.objects.get(code=service_id),
            applicant_id=applicant_id,
            application_name=name,
            form_data={"data": {}, "eFormId": eform},
            file_id=file_id,
            client=self.data["informationMediatorClientHeader"]["value"],
        )
        dossier = dossier_services.dossier_receive(actor=self.actor, dossier=binding.dossier)
        dossier = dossier_services.dossier_assign(
            actor=self.actor, dossier=dossier, department=self.registry, assignee=assignee
        )
        self.result.files += 1
        return dossier.step_visits.get(left_at__isnull=True)

    def _bind_task(self, task_id: str, visit: Any, data: dict[str, Any]) -> None:
        if GovStackId.objects.filter(kind=Kind.TASK, value=task_id).exists():
            self.result.notes.append(f"task id {task_id} used twice; kept the first")
            return
        GovStackId.objects.create(kind=Kind.TASK, value=task_id, step_visit=visit, data=data)
        self.result.tasks += 1

    def _application(self, app: dict[str, Any]) -> None:
        operator = self._operator(app["assigneeId"], app.get("operatorName", ""))
        visit = self._file(
            file_id=app["fileId"],
            service_id=app["serviceId"],
            applicant_id=app["applicantId"],
            name=app.get("taskTitle", ""),
            eform=app.get("eformId", ""),
            assignee=operator,
        )
        if app.get("mainTaskId"):
            self._bind_task(app["mainTaskId"], visit, {"mainTaskId": app["mainTaskId"]})

    def _task(self, task: dict[str, Any]) -> None:
        operator = self._operator(task["assigneeId"], task.get("name", ""))
        if GovStackId.objects.filter(kind=Kind.FILE, value=task["fileId"]).exists():
            self.result.notes.append(f"task {task['taskId']}: file {task['fileId']} exists")
            return
        visit = self._file(
            file_id=task["fileId"],
            service_id=task["serviceId"],
            applicant_id=f"task-{task['taskId']}",
            name=task.get("taskName", ""),
            eform=task.get("eFormId", ""),
            assignee=operator,
        )
        self._bind_task(
            task["taskId"],
            visit,
            {
                "mainTaskId": task.get("mainTaskId") or "",
                "description": task.get("description", ""),
            },
        )


@transaction.atomic
def testdata_load(*, data: dict[str, Any]) -> LoadResult:
    """All of it or nothing (console only)."""
    return _Loader(data).run()
