"""Read queries of the citizens' portal: the public tracking of one dossier (code plus a
second factor), and a signed-in citizen's own dossiers, always through `scope`."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from tinhso.core.errors import NotFound
from tinhso.core.models import UserKind
from tinhso.core.scoping import scope
from tinhso.dossiers.models import Dossier, DossierEvent
from tinhso.dossiers.states import Status

CITIZEN_KINDS = (UserKind.CITIZEN, UserKind.BUSINESS)


@dataclass(frozen=True)
class TrackResult:
    """All that the public tracking page may show: nothing about the applicant."""

    status_label: str
    procedure_name: str
    agency_name: str
    due_at: datetime | None


def normalise_phone(value: str) -> str:
    """Digits only, with the country code `84` turned into the leading 0."""
    digits = re.sub(r"\D", "", value)
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def _matches(secret: str, given: str) -> bool:
    return bool(secret) and bool(given) and hmac.compare_digest(secret, given)


def dossier_track(code: str, factor: str) -> TrackResult | None:
    """The public view of the dossier `code` when `factor` is its applicant's phone number
    or identification number; None otherwise, the same whether or not the code exists.

    Unscoped on purpose: the code and the second factor are the applicant's credentials."""
    code = code.strip().upper()
    given = re.sub(r"\D", "", factor)
    if not code or not given:
        return None
    dossier = (
        Dossier.objects.select_related("procedure", "agency")
        .only(
            "code",
            "status",
            "due_at",
            "applicant_phone",
            "applicant_id_number",
            "procedure__name",
            "agency__name",
        )
        .filter(code=code)
        .first()
    )
    if dossier is None:
        return None
    phone_ok = _matches(normalise_phone(dossier.applicant_phone), normalise_phone(factor))
    id_ok = _matches(re.sub(r"\D", "", dossier.applicant_id_number), given)
    if not (phone_ok or id_ok):
        return None
    return TrackResult(
        status_label=str(Status(dossier.status).label),
        procedure_name=dossier.procedure.name,
        agency_name=dossier.agency.name,
        due_at=dossier.due_at,
    )


def is_citizen(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.kind in CITIZEN_KINDS


def my_dossiers(user: Any) -> QuerySet[Dossier]:
    """The signed-in citizen's or business's own dossiers, newest first; none for anyone
    else (an official's scope reaches their agency's dossiers, not "mine")."""
    qs = Dossier.objects.select_related("procedure", "agency").order_by("-submitted_at", "-pk")
    if not is_citizen(user):
        return qs.none()
    return scope(qs, user).filter(owner=user)


def my_dossier(user: Any, code: str) -> Dossier:
    try:
        return my_dossiers(user).get(code=code)
    except Dossier.DoesNotExist as exc:
        raise NotFound() from exc


def dossier_timeline(dossier: Dossier) -> QuerySet[DossierEvent]:
    return DossierEvent.objects.filter(dossier=dossier).select_related("agency").order_by("seq")
