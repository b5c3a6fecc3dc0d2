from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema


class ApplicantIn(Schema):
    name: str = Field(..., min_length=1, max_length=255)
    id_number: str = Field(..., description="12-digit personal identification number or tax code")
    kind: Literal["citizen", "business"] = "citizen"
    phone: str = ""
    email: str = ""
    address: str = ""


class SubmitIn(Schema):
    procedure_code: str
    agency_code: str
    channel: Literal["online", "desk", "post"] = "online"
    applicant: ApplicantIn
    note: str = ""


class TransitionIn(Schema):
    """Inputs of a transition; each action reads the ones it needs."""

    expected_version: int | None = Field(
        None, description="The version you saw; a newer one gives 409 conflict."
    )
    reason: str = ""
    note: str = ""
    missing: list[str] = []
    department_code: str | None = None
    assignee_username: str | None = None
    to_agency_code: str | None = None
    new_due_at: datetime | None = None
    result_summary: str = ""
    method: Literal["desk", "post", "online"] | None = None


class DossierOut(Schema):
    code: str
    procedure_code: str = Field(..., alias="procedure.code")
    procedure_name: str = Field(..., alias="procedure.name")
    agency_code: str = Field(..., alias="agency.code")
    channel: str
    status: str
    version: int
    applicant_name: str
    submitted_at: datetime
    received_at: datetime | None
    due_at: datetime | None
    timeliness: str


class EventOut(Schema):
    seq: int
    at: datetime
    actor_label: str
    agency_code: str = Field(..., alias="agency.code")
    action: str
    from_status: str
    to_status: str
    reason: str
    data: dict


class DossierDetailOut(DossierOut):
    transfer_agency_code: str | None = Field(None, alias="transfer_agency.code")
    applicant_kind: str
    applicant_id_number: str
    original_due_at: datetime | None
    current_step: str | None = Field(None, alias="current_step.name")
    step_due_at: datetime | None
    department: str | None = Field(None, alias="department.name")
    assignee: str | None = Field(None, alias="assignee.username")
    outcome: str
    result_summary: str
    processed_at: datetime | None
    returned_at: datetime | None
    apology_count: int
    supplement_count: int
