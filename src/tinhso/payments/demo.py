"""Demo payments: most demo bills paid, through the same services as real use — cash at the
desk when the dossier was received there, online for online dossiers (a payment order and the
gateway's signed notification a few minutes later), a few exemptions, the rest left unpaid.
Deterministic (`random.Random(seed)`); bills already settled are left alone."""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from tinhso.core.models import Role, User
from tinhso.dossiers.states import Channel, Status
from tinhso.payments import services, signing
from tinhso.payments.models import Bill, BillStatus

SEED = 20251124
EXEMPTION_REASONS = (
    "Người thuộc hộ nghèo theo quy định, được miễn lệ phí.",
    "Người có công với cách mạng, được miễn lệ phí.",
)


def _gateway_notification(order, at) -> dict[str, str]:
    """The payment platform's server notification for a successful demo payment."""
    return signing.signed(
        {
            "merchant_code": settings.TINHSO_PAYMENT_MERCHANT_CODE,
            "order_id": order.order_id,
            "transaction_id": f"PG{order.pk:012d}",
            "amount": order.amount,
            "status": "success",
            "paid_at": at.isoformat(),
            "nonce": f"demo-{order.pk}",
            "sent_at": int(at.timestamp()),
        },
        settings.TINHSO_PAYMENT_SECRET,
    )


@transaction.atomic
def pay_demo_bills(*, seed: int = SEED) -> int:
    """Settle the demo's unpaid bills the way applicants would have; returns how many."""
    rng = random.Random(seed)
    desk_officers: dict[int, User] = {}
    for user in User.objects.filter(roles__role=Role.DESK_OFFICER).order_by("username"):
        desk_officers.setdefault(user.agency_id, user)
    settled = 0
    bills = (
        Bill.objects.filter(status=BillStatus.UNPAID)
        .exclude(dossier__status__in=[Status.REFUSED, Status.WITHDRAWN, Status.SUBMITTED])
        .select_related("dossier")
        .order_by("pk")
    )
    for bill in bills:
        dossier, draw = bill.dossier, rng.random()
        if draw < 0.03 and bill.agency_id in desk_officers:
            services.bill_exempt(
                actor=desk_officers[bill.agency_id],
                bill=bill,
                reason=rng.choice(EXEMPTION_REASONS),
                at=dossier.received_at,
            )
        elif dossier.channel == Channel.ONLINE and draw < 0.8:
            at = dossier.submitted_at + timedelta(minutes=rng.randint(2, 40))
            order = services.order_create(
                actor=None,
                bill=bill,
                return_url=f"{settings.TINHSO_PUBLIC_BASE_URL}/portal/payments/return",
                notify_url=f"{settings.TINHSO_PUBLIC_BASE_URL}/api/v1/payments/notify",
                at=at,
            )
            services.notification_handle(fields=_gateway_notification(order, at), at=at)
        elif dossier.channel != Channel.ONLINE and draw < 0.95 and bill.agency_id in desk_officers:
            services.bill_record_cash(
                actor=desk_officers[bill.agency_id],
                bill=bill,
                amount=bill.amount,
                at=dossier.received_at,
            )
        else:
            continue
        settled += 1
    return settled
