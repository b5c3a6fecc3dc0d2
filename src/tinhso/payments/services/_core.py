"""What the payment services share: the desk roles, the bill's audit snapshot, the row lock,
the version and permission checks and the receipt numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.catalog import cache as catalog_cache
from tinhso.catalog.models import FeeCase
from tinhso.core.audit import audit_record
from tinhso.core.errors import Conflict, IllegalTransition, OutOfScope
from tinhso.core.models import Role, User, UserKind
from tinhso.dossiers.models import Dossier
from tinhso.payments.models import (
    Bill,
    BillStatus,
)

#: Roles that handle money at the desk (record cash, exempt, change the fee case, ask for a
#: refund); a refund is approved by an agency leader.
DESK_ROLES = (Role.DESK_OFFICER, Role.AGENCY_LEADER)
BILL_FIELDS = ("status", "amount", "status_reason", "settled_at")
#: Bills that no longer stand for what the dossier owes: a new one may be issued.
UNBILLED = frozenset({BillStatus.CANCELLED, BillStatus.EXPIRED})


def _now(at: datetime | None) -> datetime:
    return at if at is not None else timezone.now()


def _snapshot(bill: Bill) -> dict[str, Any]:
    return {
        "status": bill.status,
        "amount": bill.amount,
        "status_reason": bill.status_reason,
        "settled_at": bill.settled_at.isoformat() if bill.settled_at else None,
    }


def _audit(
    actor: User | None,
    action: str,
    bill: Bill,
    before: dict[str, Any] | None,
    *,
    source: str = "web",
    label: str | None = None,
    **extra: Any,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=bill,
        before=before,
        after={**_snapshot(bill), **extra},
        source=source,
        label=label,
    )


def _lock(bill: Bill) -> Bill:
    return Bill.objects.select_for_update().select_related("dossier").get(pk=bill.pk)


def _check_version(bill: Bill, expected_version: int | None) -> None:
    if expected_version is not None and bill.version != expected_version:
        raise Conflict(current_version=bill.version)


def _require_desk(actor: User | None, bill: Bill, *roles: str) -> None:
    """The bill's agency handles its money; the system (`None`) may do anything."""
    if actor is None or actor.is_superuser:
        return
    if actor.kind != UserKind.OFFICIAL or actor.agency_id != bill.agency_id:
        raise OutOfScope()
    if not actor.has_role(*(roles or DESK_ROLES)):
        raise OutOfScope(_("Your role does not allow handling fees."))


def _require_unpaid(bill: Bill) -> None:
    if bill.status != BillStatus.UNPAID:
        raise IllegalTransition(
            _("Bill %(number)s is “%(status)s”.")
            % {"number": bill.number, "status": BillStatus(bill.status).label},
            status=bill.status,
        )


def _next_receipt_number(at: datetime) -> str:
    """`BL-<year>-<sequence>`: gap-free per year, one counter row locked until commit."""
    year = timezone.localtime(at).year
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_receiptcounter (year, last) VALUES (%s, 1) "
            "ON CONFLICT (year) DO UPDATE SET last = payments_receiptcounter.last + 1 "
            "RETURNING last",
            [year],
        )
        sequence = cursor.fetchone()[0]
    return f"BL-{year}-{sequence:07d}"


def default_fee_case(dossier: Dossier) -> FeeCase | None:
    """The case billed until the desk picks another: the first that costs something."""
    return next((c for c in catalog_cache.fee_cases(dossier.procedure_id) if c.amount > 0), None)
