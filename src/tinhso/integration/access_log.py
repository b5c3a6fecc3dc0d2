"""The log of reads of a person's data (personal-data protection, Nghị định 13/2023/NĐ-CP):
who read whose data, when, from which agency, why, and what came of it. Append-only: the
database refuses to change or delete a row."""

from __future__ import annotations

from typing import Any

from tinhso.core.audit import actor_label
from tinhso.integration.models import PersonalDataAccess

#: Outcomes written by the population adapter; a dossier opened is a plain "read".
READ = "read"
FOUND = "found"
NOT_FOUND = "not_found"
INVALID = "invalid"
UNAVAILABLE = "unavailable"
REFUSED = "refused"

_MAX = {
    "subject_id_number": PersonalDataAccess._meta.get_field("subject_id_number").max_length,
    "purpose": PersonalDataAccess._meta.get_field("purpose").max_length,
    "dossier_code": PersonalDataAccess._meta.get_field("dossier_code").max_length,
    "source": PersonalDataAccess._meta.get_field("source").max_length,
    "outcome": PersonalDataAccess._meta.get_field("outcome").max_length,
}


def _clip(name: str, value: str) -> str:
    return (value or "")[: _MAX[name]]


def record_access(
    *,
    actor: Any,
    subject_id_number: str,
    purpose: str,
    source: str,
    dossier_code: str = "",
    outcome: str = READ,
) -> PersonalDataAccess:
    """Append one row: `actor` (an official, or None for the system) read the data of the
    person numbered `subject_id_number` for `purpose`. The actor's agency and its unit path
    are copied so the row stays in that agency's scope even if the official moves on."""
    user = actor if actor is not None and getattr(actor, "pk", None) else None
    agency = getattr(user, "agency", None) if user is not None else None
    return PersonalDataAccess.objects.create(
        actor=user,
        actor_label=actor_label(user)[:150],
        agency=agency,
        unit_path=agency.unit.path if agency is not None else "",
        source=_clip("source", source),
        subject_id_number=_clip("subject_id_number", str(subject_id_number or "").strip()),
        purpose=_clip("purpose", (purpose or "").strip()),
        dossier_code=_clip("dossier_code", dossier_code),
        outcome=_clip("outcome", outcome),
    )
