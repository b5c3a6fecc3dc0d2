"""How the Registration building block's words map onto ours (docs/govstack.md), as plain
Python: the status enum, the native identifiers of unbound objects, the eForm's JSON Schema
derived from a procedure, a small JSON Schema validator and the Information Mediator's
client header format."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from tinhso.dossiers.states import Outcome, Status

IM_HEADER = "Information-Mediator-Client"
#: `INSTANCE/CLASS/MEMBER/SUBSYSTEM` (X-Road): four non-empty parts.
IM_FORMAT = re.compile(r"^[^/\s']+/[^/\s']+/[^/\s']+/[^/\s']+$")

PENDING, APPROVED, SENDBACK, REJECTED = "PENDING", "APPROVED", "SENDBACK", "REJECTED"
STATUS_TITLES = {
    PENDING: "Pending",
    APPROVED: "Approved",
    SENDBACK: "Sent back",
    REJECTED: "Rejected",
}
_BY_STATUS = {
    Status.SUBMITTED: PENDING,
    Status.RECEIVED: PENDING,
    Status.IN_PROCESSING: PENDING,
    Status.TRANSFERRED: PENDING,
    Status.SUSPENDED: PENDING,
    Status.SUPPLEMENT_REQUESTED: SENDBACK,
    Status.APPROVED: APPROVED,
    Status.REJECTED: REJECTED,
    Status.REFUSED: REJECTED,
    Status.WITHDRAWN: REJECTED,
}
ENDED_STATUSES = frozenset({Status.DONE, Status.REFUSED, Status.WITHDRAWN})


def status_code(status: str, outcome: str = "") -> str:
    """Our dossier status (and outcome, once done) as the building block's status code."""
    if status == Status.DONE:
        return REJECTED if outcome == Outcome.REJECTED else APPROVED
    return _BY_STATUS[Status(status)]


def status_model(status: str, outcome: str = "") -> dict[str, str]:
    code = status_code(status, outcome)
    return {"code": code, "title": STATUS_TITLES[code]}


def valid_im_header(value: str | None) -> bool:
    return bool(value) and IM_FORMAT.match(value or "") is not None


# --- native identifiers of objects without a GovStack binding ------------------------------

EFORM_SUFFIX = ".form"
TASK_PREFIX = "task-"


def native_eform_id(procedure_code: str) -> str:
    return f"{procedure_code}{EFORM_SUFFIX}"


def procedure_code_of_eform(eform_id: str) -> str | None:
    return eform_id[: -len(EFORM_SUFFIX)] if eform_id.endswith(EFORM_SUFFIX) else None


def native_task_id(step_visit_pk: int) -> str:
    return f"{TASK_PREFIX}{step_visit_pk}"


def step_visit_pk_of_task(task_id: str) -> int | None:
    rest = task_id[len(TASK_PREFIX) :] if task_id.startswith(TASK_PREFIX) else ""
    return int(rest) if rest.isdigit() else None


# --- the eForm of a procedure ---------------------------------------------------------------

APPLICANT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "idNumber": {"type": "string", "pattern": r"^\d{12}$"},
        "phone": {"type": "string"},
        "email": {"type": "string"},
        "address": {"type": "string"},
    },
    "required": ["name", "idNumber"],
}


def procedure_eform_schema(
    name: str, documents: Iterable[tuple[str, bool]], needs_applicant: bool = True
) -> dict[str, Any]:
    """The JSON Schema of a procedure's application form: the applicant (as the desk's form
    asks for them) and one entry per required document, holding the URLs of the documents
    uploaded with `POST /documents`."""
    doc_props: dict[str, Any] = {}
    required_docs = []
    for index, (doc_name, required) in enumerate(documents, start=1):
        key = f"document{index}"
        doc_props[key] = {
            "type": "array",
            "title": doc_name,
            "items": {"type": "string"},
            **({"minItems": 1} if required else {}),
        }
        if required:
            required_docs.append(key)
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": name,
        "type": "object",
        "properties": {
            "applicant": APPLICANT_SCHEMA,
            "documents": {
                "type": "object",
                "properties": doc_props,
                "required": required_docs,
            },
        },
        "required": ["applicant"] if needs_applicant else [],
    }
    return schema


# --- a small JSON Schema validator ----------------------------------------------------------

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def schema_errors(instance: Any, schema: Any, path: str = "") -> list[str]:
    """The errors of `instance` against `schema`, for the keywords an eForm uses: type,
    properties, required, additionalProperties, items, minItems, maxItems, enum, const,
    pattern, minLength, maxLength, minimum, maximum. Unknown keywords are ignored, as the
    specification says."""
    if not isinstance(schema, dict):
        return []
    where = path or "data"
    errors: list[str] = []
    wanted = schema.get("type")
    if wanted is not None:
        types = wanted if isinstance(wanted, list) else [wanted]
        ok = False
        for t in types:
            python = _TYPES.get(t)
            if python is None:
                ok = True
            elif isinstance(instance, bool) and t in ("integer", "number"):
                continue
            elif isinstance(instance, python):
                ok = True
        if not ok:
            return [f"{where}: expected {' or '.join(types)}"]
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{where}: not one of the allowed values")
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{where}: not the required value")
    if isinstance(instance, str):
        if "minLength" in schema and len(instance) < schema["minLength"]:
            errors.append(f"{where}: too short")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            errors.append(f"{where}: too long")
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            errors.append(f"{where}: does not match {schema['pattern']}")
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{where}: below the minimum")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{where}: above the maximum")
    if isinstance(instance, list):
        if "minItems" in schema and len(instance) < schema["minItems"]:
            errors.append(f"{where}: too few items")
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            errors.append(f"{where}: too many items")
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(instance):
                errors += schema_errors(item, items, f"{where}[{i}]")
    if isinstance(instance, dict):
        properties = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if key not in instance:
                errors.append(f"{where}.{key}: required")
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key in properties:
                errors += schema_errors(value, properties[key], f"{where}.{key}")
            elif extra is False:
                errors.append(f"{where}.{key}: not allowed")
            elif isinstance(extra, dict):
                errors += schema_errors(value, extra, f"{where}.{key}")
    return errors
