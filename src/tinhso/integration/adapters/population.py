"""The national population database (Cơ sở dữ liệu quốc gia về dân cư): looking a person up by
their personal identification number.

A look-up is a read of personal data, so every attempt — found, not found, refused, a number
that cannot exist, the database unreachable — leaves a row in the personal-data access log,
with who asked, from which agency, why, and for which dossier.

The wire format (see docs/integration.md): `GET {TINHSO_POPULATION_URL}/people/{number}` with
the purpose, the agency's electronic identifier and the dossier in headers; 200 with the
person as JSON, 404 when the number is unknown, anything else means unavailable. The HTTP
call goes through a swappable transport so tests run without a network.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tinhso.core.errors import DomainError, NotFound, OutOfScope, ValidationFailed
from tinhso.core.models import UserKind
from tinhso.integration import access_log
from tinhso.integration.identity import InvalidIdentificationNumber, parse_identification_number

SOURCE = "population_lookup"


class PopulationUnavailable(DomainError):
    code = "population_unavailable"
    status = 503
    default_message = _("The national population database cannot be reached. Try again later.")


class PersonNotFound(NotFound):
    code = "person_not_found"
    default_message = _("No person with this identification number in the population database.")


class InvalidNumber(ValidationFailed):
    code = "invalid_identification_number"


@dataclass(frozen=True)
class Person:
    name: str
    date_of_birth: date
    gender: str
    permanent_address: str


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class TransportError(Exception):
    """The other side could not be reached (refused, timed out, broken answer)."""


Transport = Callable[[str, dict[str, str], float], Response]


def urllib_transport(url: str, headers: dict[str, str], timeout: float) -> Response:
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(status=answer.status, body=answer.read())
    except urllib.error.HTTPError as exc:
        return Response(status=exc.code, body=exc.read() or b"")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TransportError(str(exc)) from exc


_transport: Transport = urllib_transport


def set_transport(transport: Transport | None) -> Transport:
    """Use `transport` for the HTTP calls (None: back to urllib); returns the previous one."""
    global _transport
    previous = _transport
    _transport = transport or urllib_transport
    return previous


def _may_look_up(actor: Any) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    return actor.kind == UserKind.OFFICIAL and actor.agency_id is not None and bool(actor.role_set)


def _headers(actor: Any, purpose: str, dossier_code: str) -> dict[str, str]:
    # HTTP headers are Latin-1: Vietnamese text travels percent-encoded (UTF-8).
    return {
        "Accept": "application/json",
        "X-Purpose": quote(purpose),
        "X-Agency-Code": actor.agency.code,
        "X-Official": quote(actor.get_username()),
        "X-Dossier-Code": quote(dossier_code),
    }


def _person_from(body: bytes) -> Person:
    data = json.loads(body.decode("utf-8"))
    return Person(
        name=str(data["full_name"]),
        date_of_birth=date.fromisoformat(data["date_of_birth"]),
        gender=str(data["gender"]),
        permanent_address=str(data.get("permanent_address", "")),
    )


def lookup_person(*, actor: Any, id_number: str, purpose: str, dossier_code: str = "") -> Person:
    """The person with `id_number`, read from the population database for `purpose`.

    Raises `OutOfScope` unless `actor` is an official with an agency and a role,
    `ValidationFailed` without a purpose, `InvalidNumber` when the number cannot exist (no
    call is made), `PersonNotFound`, or `PopulationUnavailable`. Every case is logged."""
    id_number = (id_number or "").strip()
    purpose = (purpose or "").strip()

    def log(outcome: str) -> None:
        access_log.record_access(
            actor=actor,
            subject_id_number=id_number,
            purpose=purpose,
            source=SOURCE,
            dossier_code=dossier_code,
            outcome=outcome,
        )

    if not _may_look_up(actor):
        log(access_log.REFUSED)
        raise OutOfScope(_("Only officials of an agency may look people up."))
    if not purpose:
        log(access_log.REFUSED)
        raise ValidationFailed(_("State the purpose of the look-up."))
    try:
        parse_identification_number(id_number)
    except InvalidIdentificationNumber as exc:
        log(access_log.INVALID)
        raise InvalidNumber(exc.message, reason=exc.reason) from exc

    url = f"{settings.TINHSO_POPULATION_URL.rstrip('/')}/people/{id_number}"
    try:
        answer = _transport(
            url, _headers(actor, purpose, dossier_code), float(settings.TINHSO_POPULATION_TIMEOUT)
        )
        if answer.status == 404:
            log(access_log.NOT_FOUND)
            raise PersonNotFound()
        if answer.status != 200:
            raise TransportError(f"HTTP {answer.status}")
        person = _person_from(answer.body)
    except (TransportError, ValueError, KeyError, TypeError) as exc:
        log(access_log.UNAVAILABLE)
        raise PopulationUnavailable(detail=str(exc)[:200]) from exc
    log(access_log.FOUND)
    if dossier_code:
        from tinhso.dossiers.services import mark_identity_verified

        mark_identity_verified(code=dossier_code)
    return person
