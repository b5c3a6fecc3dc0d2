"""The transactional outbox (docs/integration.md#outbox).

A service calls `enqueue` inside its own transaction, so the message commits or rolls back
with the change that caused it. A worker (`tinhso outbox work`, or the `deliver_outbox` task)
calls `deliver_due`: it claims due messages with a lease, hands each to its adapter outside
any transaction, and records the outcome — delivered, retried later with exponential backoff
and full jitter, or moved to the dead-letter queue. Delivery is at least once; receivers
deduplicate by `idempotency_key`. Messages sharing an `ordering_key` go out in `id` order."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tinhso.core.audit import audit_record, snapshot
from tinhso.core.errors import IllegalTransition
from tinhso.core.models import User
from tinhso.core.services import require_admin
from tinhso.integration.models import MessageState, OutboxMessage, WorkerHeartbeat

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 3600
MESSAGE_FIELDS = ("state", "attempts", "next_attempt_at", "last_error")


class DeliveryFailed(Exception):
    """Raised by an adapter: `retryable` says whether trying again later may succeed."""

    def __init__(self, detail: str, *, retryable: bool = True) -> None:
        self.retryable = retryable
        self.detail = detail
        super().__init__(detail)


Deliver = Callable[[OutboxMessage], None]
_adapters: dict[str, Deliver] = {}

#: The jitter's source; tests seed it (`outbox.rng.seed(1)`) for repeatable schedules.
rng = random.Random()


def register_adapter(name: str, deliver: Deliver) -> None:
    _adapters[name] = deliver


def adapter_for(name: str) -> Deliver:
    try:
        return _adapters[name]
    except KeyError:
        raise DeliveryFailed(f"no adapter registered as {name!r}", retryable=False) from None


# --- writing ----------------------------------------------------------------------------------


def enqueue(
    *,
    adapter: str,
    topic: str,
    payload: dict[str, Any],
    ordering_key: str = "",
    idempotency_key: str | None = None,
) -> OutboxMessage:
    """Add a message in the caller's transaction (outside one, a message could be written for
    a change that then rolls back, or a change committed without its message)."""
    assert transaction.get_connection().in_atomic_block, "enqueue() needs the caller's transaction"
    message = OutboxMessage.objects.create(
        adapter=adapter,
        topic=topic,
        payload=payload,
        ordering_key=ordering_key,
        idempotency_key=idempotency_key or f"{adapter}:{uuid4()}",
    )
    _kick_worker_on_commit()
    return message


def _kick() -> None:
    from tinhso.integration.tasks import kick_delivery

    kick_delivery()


def _kick_worker_on_commit() -> None:
    """Once per transaction, after commit, queue the `deliver_outbox` task so a task worker
    delivers promptly (the outbox worker's polling finds the message anyway)."""
    conn = transaction.get_connection()
    # A rollback empties `run_on_commit`, so the next transaction registers afresh.
    if any(entry[1] is _kick for entry in conn.run_on_commit):
        return
    transaction.on_commit(_kick)


# --- delivering -------------------------------------------------------------------------------


def backoff_seconds(attempts: int) -> float:
    """Full jitter: a random delay between 0 and base × 2^attempts (capped)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempts)
    return rng.uniform(0, ceiling)


def _due(now: datetime) -> Any:
    """Due, unclaimed, pending messages whose ordering key has no earlier message still
    pending or dead (a dead one blocks its key until an administrator settles it)."""
    earlier = OutboxMessage.objects.filter(
        ordering_key=OuterRef("ordering_key"),
        id__lt=OuterRef("id"),
        state__in=(MessageState.PENDING, MessageState.DEAD),
    )
    return (
        OutboxMessage.objects.filter(state=MessageState.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .filter(Q(ordering_key="") | ~Exists(earlier))
        .order_by("id")
    )


def _claim(message_id: int, now: datetime, lease_until: datetime) -> bool:
    """One UPDATE that succeeds for one worker only: two workers never hold the same message
    at once (a worker that died lets its lease expire and another takes the message over)."""
    return bool(
        OutboxMessage.objects.filter(
            pk=message_id, state=MessageState.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=lease_until, last_attempt_at=now)
    )


def _deliver_one(message: OutboxMessage, now: datetime, lease_until: datetime) -> bool:
    try:
        adapter_for(message.adapter)(message)
    except Exception as exc:  # an adapter bug must not stop the worker
        if isinstance(exc, DeliveryFailed):
            retryable, detail = exc.retryable, exc.detail
        else:
            logger.exception("outbox adapter %s crashed on message %s", message.adapter, message.pk)
            retryable, detail = True, f"{exc.__class__.__name__}: {exc}"
        attempts = message.attempts + 1
        too_old = message.created_at < now - timedelta(
            seconds=settings.TINHSO_OUTBOX_MAX_AGE_SECONDS
        )
        dead = not retryable or too_old
        OutboxMessage.objects.filter(
            pk=message.pk, state=MessageState.PENDING, locked_until=lease_until
        ).update(
            state=MessageState.DEAD if dead else MessageState.PENDING,
            attempts=attempts,
            last_error=detail[:2000],
            next_attempt_at=now if dead else now + timedelta(seconds=backoff_seconds(attempts)),
            locked_until=None,
        )
        log = logger.warning if dead else logger.info
        log(
            "outbox message %s (%s/%s) %s after attempt %s: %s",
            message.pk,
            message.adapter,
            message.topic,
            "dead" if dead else "will be retried",
            attempts,
            detail,
        )
        return False
    # Delivered even if our lease ran out meanwhile: the partner has it.
    OutboxMessage.objects.filter(pk=message.pk, state=MessageState.PENDING).update(
        state=MessageState.DELIVERED,
        attempts=F("attempts") + 1,
        delivered_at=now,
        locked_until=None,
        last_error="",
    )
    return True


def deliver_due(*, worker: str, limit: int = 50, now: datetime | None = None) -> int:
    """Deliver up to `limit` due messages; returns how many were delivered. `now` lets tests
    travel in time (it stands for the clock in every decision: due, lease, backoff, age)."""
    moment = now if now is not None else timezone.now()
    lease_until = moment + timedelta(seconds=settings.TINHSO_OUTBOX_LEASE_SECONDS)
    delivered = 0
    tried: set[int] = set()
    while len(tried) < limit:
        # Delivering the head of a key makes the next message of that key due: look again.
        batch = [pk for pk in _due(moment).values_list("pk", flat=True)[:limit] if pk not in tried]
        if not batch:
            break
        for message_id in batch[: limit - len(tried)]:
            tried.add(message_id)
            if not _claim(message_id, moment, lease_until):
                continue
            message = OutboxMessage.objects.get(pk=message_id)
            if _deliver_one(message, moment, lease_until):
                delivered += 1
    heartbeat(worker=worker, delivered=delivered, now=now)
    return delivered


def heartbeat(*, worker: str, delivered: int = 0, now: datetime | None = None) -> None:
    beat_at = now if now is not None else timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker=worker).update(
        beat_at=beat_at, delivered=F("delivered") + delivered
    )
    if not updated:
        WorkerHeartbeat.objects.get_or_create(
            worker=worker, defaults={"beat_at": beat_at, "delivered": delivered}
        )


# --- the dead-letter queue, for administrators ------------------------------------------------


@transaction.atomic
def outbox_retry(*, actor: User | None, message: OutboxMessage) -> OutboxMessage:
    """Put a dead message back in the queue, due now (it unblocks its ordering key)."""
    require_admin(actor)
    locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if locked.state != MessageState.DEAD:
        raise IllegalTransition(_("Only a dead message can be retried."))
    before = snapshot(locked, MESSAGE_FIELDS)
    locked.state = MessageState.PENDING
    locked.next_attempt_at = timezone.now()
    locked.locked_until = None
    # A fresh start for the age limit too, or an old message would die again at once.
    locked.created_at = locked.next_attempt_at
    locked.save(update_fields=["state", "next_attempt_at", "locked_until", "created_at"])
    audit_record(
        actor=actor,
        action="outbox.retry",
        obj=locked,
        before=before,
        after=snapshot(locked, MESSAGE_FIELDS),
    )
    _kick_worker_on_commit()
    return locked


@transaction.atomic
def outbox_discard(*, actor: User | None, message: OutboxMessage, reason: str) -> OutboxMessage:
    """Give up on a dead or pending message (it unblocks its ordering key)."""
    require_admin(actor)
    locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if locked.state not in (MessageState.DEAD, MessageState.PENDING):
        raise IllegalTransition(_("Only a dead or waiting message can be discarded."))
    before = snapshot(locked, MESSAGE_FIELDS)
    locked.state = MessageState.DISCARDED
    locked.locked_until = None
    locked.last_error = f"{locked.last_error}\n[discarded] {reason}".strip()[:2000]
    locked.save(update_fields=["state", "locked_until", "last_error"])
    after = snapshot(locked, MESSAGE_FIELDS) | {"reason": reason}
    audit_record(actor=actor, action="outbox.discard", obj=locked, before=before, after=after)
    return locked
