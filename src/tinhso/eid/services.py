"""Turning a validated e-ID identity into our user: find or create the citizen (by personal
identification number) or the business (by tax code), refresh what the provider vouches for,
and write the audit row."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from tinhso.core.audit import audit_record, snapshot
from tinhso.core.models import User, UserKind
from tinhso.dossiers.services import EID_SIGN_IN, mark_identity_verified
from tinhso.eid.oidc import EidError
from tinhso.integration.identity import InvalidIdentificationNumber, parse_identification_number

#: A Vietnamese tax code: 10 digits, or 10 digits, a hyphen and a 3-digit branch number.
TAX_CODE_RE = re.compile(r"^\d{10}(-\d{3})?$")
#: The user fields the provider's claims keep up to date, and the claim each comes from.
CLAIM_FIELDS = {"full_name": "name", "phone": "phone_number", "email": "email"}


def _claim_str(claims: dict[str, Any], name: str, max_length: int) -> str:
    value = claims.get(name)
    return value.strip()[:max_length] if isinstance(value, str) else ""


def identity_from_claims(claims: dict[str, Any]) -> tuple[str, str]:
    """(kind, number): a business by its `tax_code` claim, otherwise a citizen by its
    `personal_id` claim; `EidError` when neither is a valid number."""
    tax_code = claims.get("tax_code")
    if tax_code not in (None, ""):
        if not (isinstance(tax_code, str) and TAX_CODE_RE.match(tax_code)):
            raise EidError("invalid_tax_code", _("The tax code sent by the e-ID is not valid."))
        return UserKind.BUSINESS, tax_code
    personal_id = claims.get("personal_id")
    if personal_id in (None, ""):
        raise EidError(
            "no_identifier",
            _("The e-ID did not send a personal identification number or a tax code."),
        )
    try:
        parse_identification_number(personal_id)
    except InvalidIdentificationNumber as exc:
        raise EidError(
            "invalid_personal_id",
            _("The personal identification number sent by the e-ID is not valid."),
            id_problem=exc.reason,
        ) from exc
    return UserKind.CITIZEN, personal_id


def _username(kind: str, number: str) -> str:
    return f"{'business' if kind == UserKind.BUSINESS else 'citizen'}-{number}"


@transaction.atomic
def citizen_sign_in(*, claims: dict[str, Any], issuer: str, source: str = "web") -> User:
    """The citizen or business the validated ID-token `claims` identify, created on their
    first sign-in and refreshed from the claims on every one; audited as "citizen.signin".

    An account of another kind holding the same number (an official's own account) is never
    signed in this way: e-ID sign-in must not grant an official's rights.
    """
    kind, number = identity_from_claims(claims)
    lookup = {"tax_code": number} if kind == UserKind.BUSINESS else {"personal_id": number}
    user = User.objects.select_for_update().filter(**lookup).first()
    created = user is None
    if user is None:
        user = User(username=_username(kind, number), kind=kind, **lookup)
        user.set_unusable_password()
    elif user.kind != kind:
        raise EidError(
            "kind_mismatch",
            _("This identification number belongs to an account that cannot sign in here."),
        )
    elif not user.is_active:
        raise EidError("inactive", _("This account has been deactivated."))

    before = None if created else snapshot(user, CLAIM_FIELDS)
    for field_name, claim in CLAIM_FIELDS.items():
        max_length = User._meta.get_field(field_name).max_length or 254
        value = _claim_str(claims, claim, max_length)
        if value:
            setattr(user, field_name, value)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # the same person's first sign-in in two tabs at once
        raise EidError("concurrent_signin") from exc
    after = snapshot(user, CLAIM_FIELDS)
    mark_identity_verified(owner=user)
    audit_record(
        actor=user,
        action=EID_SIGN_IN,
        obj=user,
        before=before,
        after={**after, "kind": kind, "method": "eid", "issuer": issuer, "created": created},
        source=source,
    )
    return user
