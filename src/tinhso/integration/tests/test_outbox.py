"""The outbox on its own, with a test adapter: enqueueing in the caller's transaction,
claiming with a lease, backoff, the dead-letter queue, ordering per key, and the
administrators' retry and discard."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tinhso.core.errors import IllegalTransition, OutOfScope
from tinhso.core.models import AuditRecord
from tinhso.integration import outbox
from tinhso.integration.models import MessageState, OutboxMessage, WorkerHeartbeat

T0 = datetime.fromisoformat("2025-12-01T08:00:00+07:00")  # in the past: real-time calls see it due


class Partner:
    """A test adapter: answers from a script (None = accept), records what it got."""

    def __init__(self) -> None:
        self.script: list[outbox.DeliveryFailed | None] = []
        self.received: list[str] = []

    def __call__(self, message: OutboxMessage) -> None:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.received.append(message.idempotency_key)


@pytest.fixture
def partner(db):
    p = Partner()
    outbox.register_adapter("test", p)
    outbox.rng.seed(1)
    yield p
    outbox._adapters.pop("test", None)


def put(key: str, *, ordering_key: str = "", at: datetime = T0) -> OutboxMessage:
    with transaction.atomic():
        message = outbox.enqueue(
            adapter="test",
            topic="t",
            payload={"k": key},
            ordering_key=ordering_key,
            idempotency_key=key,
        )
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=at, next_attempt_at=at)
    message.refresh_from_db()
    return message


def state(message: OutboxMessage) -> OutboxMessage:
    message.refresh_from_db()
    return message


def test_enqueue_gives_a_unique_key_by_default(db):
    with transaction.atomic():
        a = outbox.enqueue(adapter="test", topic="t", payload={})
        b = outbox.enqueue(adapter="test", topic="t", payload={})
    assert a.idempotency_key.startswith("test:") and a.idempotency_key != b.idempotency_key
    assert a.state == MessageState.PENDING and a.attempts == 0


def test_enqueue_refuses_to_run_outside_a_transaction(transactional_db):
    with pytest.raises(AssertionError):
        outbox.enqueue(adapter="test", topic="t", payload={})
    assert OutboxMessage.objects.count() == 0


def test_enqueue_queues_the_delivery_task_once_after_commit(transactional_db, monkeypatch):
    from tinhso.integration import tasks

    kicks = []
    monkeypatch.setattr(tasks, "kick_delivery", lambda: kicks.append(1))
    with transaction.atomic():
        outbox.enqueue(adapter="test", topic="t", payload={})
        outbox.enqueue(adapter="test", topic="t", payload={})
        assert kicks == []
    assert kicks == [1]
    try:
        with transaction.atomic():
            outbox.enqueue(adapter="test", topic="t", payload={})
            raise RuntimeError
    except RuntimeError:
        pass
    assert kicks == [1]


def test_the_delivery_task_is_queued_on_the_configured_backend(transactional_db, partner, settings):
    from django_tasks_db.models import DBTaskResult

    from tinhso.integration import tasks

    settings.TINHSO_OUTBOX_KICK_TASK = False
    tasks.kick_delivery()
    assert not DBTaskResult.objects.exists()  # off by default: the outbox worker polls
    settings.TINHSO_OUTBOX_KICK_TASK = True
    tasks.kick_delivery()
    assert DBTaskResult.objects.filter(task_path__endswith="deliver_outbox").count() == 1
    put("a")
    assert tasks.deliver_outbox.call() == 1
    assert partner.received == ["a"]


def test_a_delivered_message_is_marked_and_the_worker_beats(partner):
    message = put("a")
    assert outbox.deliver_due(worker="w1", now=T0) == 1
    message = state(message)
    assert message.state == MessageState.DELIVERED
    assert message.delivered_at == T0
    assert message.attempts == 1
    assert message.locked_until is None
    assert partner.received == ["a"]
    beat = WorkerHeartbeat.objects.get(worker="w1")
    assert (beat.beat_at, beat.delivered) == (T0, 1)
    assert outbox.deliver_due(worker="w1", now=T0) == 0  # nothing twice


def test_a_message_not_yet_due_waits(partner):
    put("a", at=T0 + timedelta(minutes=1))
    assert outbox.deliver_due(worker="w", now=T0) == 0
    assert outbox.deliver_due(worker="w", now=T0 + timedelta(minutes=1)) == 1


def test_a_retryable_failure_backs_off_exponentially_with_jitter(partner):
    message = put("a")
    ceilings = []
    now = T0
    for attempt in range(1, 12):
        partner.script = [outbox.DeliveryFailed("503", retryable=True)]
        assert outbox.deliver_due(worker="w", now=now) == 0
        message = state(message)
        assert message.state == MessageState.PENDING
        assert message.attempts == attempt
        assert message.last_error == "503"
        delay = (message.next_attempt_at - now).total_seconds()
        ceiling = min(3600, 5 * 2**attempt)
        assert 0 <= delay <= ceiling
        ceilings.append(ceiling)
        now = message.next_attempt_at
    assert ceilings[:3] == [10, 20, 40] and ceilings[-1] == 3600


def test_a_failing_message_is_not_tried_again_before_its_time(partner):
    message = put("a")
    partner.script = [outbox.DeliveryFailed("down")]
    outbox.deliver_due(worker="w", now=T0)
    due = state(message).next_attempt_at
    assert outbox.deliver_due(worker="w", now=due - timedelta(microseconds=1)) == 0
    assert outbox.deliver_due(worker="w", now=due) == 1


def test_a_non_retryable_failure_goes_to_the_dead_letter_queue(partner):
    message = put("a")
    partner.script = [outbox.DeliveryFailed("400 bad field", retryable=False)]
    outbox.deliver_due(worker="w", now=T0)
    message = state(message)
    assert message.state == MessageState.DEAD
    assert message.last_error == "400 bad field"
    assert outbox.deliver_due(worker="w", now=T0 + timedelta(days=1)) == 0


def test_a_message_failing_past_its_maximum_age_dies(partner, settings):
    settings.TINHSO_OUTBOX_MAX_AGE_SECONDS = 3600
    message = put("a")
    partner.script = [outbox.DeliveryFailed("down")]
    outbox.deliver_due(worker="w", now=T0 + timedelta(minutes=59))
    assert state(message).state == MessageState.PENDING
    partner.script = [outbox.DeliveryFailed("down")]
    outbox.deliver_due(worker="w", now=T0 + timedelta(hours=2))
    assert state(message).state == MessageState.DEAD


def test_an_adapter_that_crashes_is_retried(partner):
    message = put("a")
    partner.script = [ValueError("bug")]  # type: ignore[list-item]
    outbox.deliver_due(worker="w", now=T0)
    message = state(message)
    assert message.state == MessageState.PENDING
    assert "ValueError" in message.last_error


def test_an_unknown_adapter_is_a_dead_letter(db):
    with transaction.atomic():
        message = outbox.enqueue(adapter="nobody", topic="t", payload={})
    outbox.deliver_due(worker="w")
    assert state(message).state == MessageState.DEAD


def test_message_two_waits_while_message_one_is_pending(partner):
    one = put("d1:1", ordering_key="dossier:1")
    two = put("d1:2", ordering_key="dossier:1")
    other = put("d2:1", ordering_key="dossier:2")
    partner.script = [outbox.DeliveryFailed("down")]
    assert outbox.deliver_due(worker="w", now=T0) == 1  # one fails, two waits, other goes
    assert state(two).state == MessageState.PENDING and state(two).attempts == 0
    assert partner.received == ["d2:1"]
    later = state(one).next_attempt_at
    assert outbox.deliver_due(worker="w", now=later) == 2
    assert partner.received == ["d2:1", "d1:1", "d1:2"]
    assert state(other).state == MessageState.DELIVERED


def test_a_claimed_message_is_not_delivered_by_a_second_worker(partner, settings):
    settings.TINHSO_OUTBOX_LEASE_SECONDS = 60
    message = put("a")
    assert outbox._claim(message.pk, T0, T0 + timedelta(seconds=60))  # worker 1, in flight
    assert not outbox._claim(message.pk, T0, T0 + timedelta(seconds=60))
    assert outbox.deliver_due(worker="w2", now=T0 + timedelta(seconds=59)) == 0
    assert partner.received == []
    # Worker 1 died: its lease runs out and another worker takes the message over.
    assert outbox.deliver_due(worker="w2", now=T0 + timedelta(seconds=61)) == 1
    assert partner.received == ["a"]


def test_a_dead_message_blocks_its_key_until_retried(partner, world):
    one = put("d1:1", ordering_key="dossier:1")
    two = put("d1:2", ordering_key="dossier:1")
    partner.script = [outbox.DeliveryFailed("400", retryable=False)]
    outbox.deliver_due(worker="w", now=T0)
    assert state(one).state == MessageState.DEAD
    assert outbox.deliver_due(worker="w", now=T0 + timedelta(days=1)) == 0
    assert state(two).state == MessageState.PENDING

    outbox.outbox_retry(actor=world.administrator, message=one)
    assert state(one).state == MessageState.PENDING
    assert outbox.deliver_due(worker="w") == 2
    assert partner.received == ["d1:1", "d1:2"]
    record = AuditRecord.objects.get(action="outbox.retry")
    assert record.before["state"] == "dead" and record.after["state"] == "pending"
    assert record.actor == world.administrator


def test_discarding_a_dead_message_unblocks_its_key_and_is_audited(partner, world):
    one = put("d1:1", ordering_key="dossier:1")
    put("d1:2", ordering_key="dossier:1")
    partner.script = [outbox.DeliveryFailed("400", retryable=False)]
    outbox.deliver_due(worker="w", now=T0)
    outbox.outbox_discard(actor=world.administrator, message=one, reason="sent by hand")
    assert state(one).state == MessageState.DISCARDED
    assert outbox.deliver_due(worker="w", now=T0) == 1
    assert partner.received == ["d1:2"]
    record = AuditRecord.objects.get(action="outbox.discard")
    assert record.after["reason"] == "sent by hand"
    assert (record.before["state"], record.after["state"]) == ("dead", "discarded")


def test_only_dead_messages_are_retried_and_delivered_ones_never_discarded(partner, world):
    message = put("a")
    with pytest.raises(IllegalTransition):
        outbox.outbox_retry(actor=world.administrator, message=message)
    outbox.deliver_due(worker="w", now=T0)
    with pytest.raises(IllegalTransition):
        outbox.outbox_discard(actor=world.administrator, message=message, reason="x")


@pytest.mark.parametrize("persona", ["desk_a", "provincial_leader", "citizen", "nobody"])
def test_it_refuses_retry_and_discard_to_anyone_but_an_administrator(partner, world, persona):
    message = put("a")
    partner.script = [outbox.DeliveryFailed("400", retryable=False)]
    outbox.deliver_due(worker="w", now=T0)
    actor = getattr(world, persona)
    with pytest.raises(OutOfScope):
        outbox.outbox_retry(actor=actor, message=message)
    with pytest.raises(OutOfScope):
        outbox.outbox_discard(actor=actor, message=message, reason="x")
    assert state(message).state == MessageState.DEAD
    assert not AuditRecord.objects.filter(action__startswith="outbox.").exists()


def test_limit_bounds_one_round(partner):
    for i in range(5):
        put(f"m{i}")
    assert outbox.deliver_due(worker="w", limit=2, now=T0) == 2
    assert outbox.deliver_due(worker="w", limit=50, now=T0) == 3


# --- readiness (health/ready reads the heartbeat and the backlog) --------------------------------


def test_readiness_reports_no_worker_without_failing_unless_one_is_required(db, client, settings):
    answer = client.get("/health/ready")
    assert answer.status_code == 200
    assert answer.json()["checks"]["worker"]["status"] == "no worker"
    settings.TINHSO_REQUIRE_WORKER = True
    assert client.get("/health/ready").status_code == 503
    outbox.heartbeat(worker="w")
    answer = client.get("/health/ready")
    assert answer.status_code == 200
    assert answer.json()["checks"]["worker"]["status"] == "ok"


def test_readiness_fails_on_a_stale_heartbeat_when_a_worker_is_required(db, client, settings):
    settings.TINHSO_REQUIRE_WORKER = True
    outbox.heartbeat(worker="w", now=timezone.now() - timedelta(seconds=61))
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["worker"]["status"] == "stale"


def test_readiness_fails_when_the_backlog_is_over_the_limit(partner, client, settings):
    settings.TINHSO_OUTBOX_BACKLOG_LIMIT = 2
    put("a")
    put("b")
    partner.script = [outbox.DeliveryFailed("400", retryable=False)]
    assert client.get("/health/ready").json()["checks"]["outbox"]["due"] == 2
    put("c")
    answer = client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["outbox"]["status"] == "backlog"
    outbox.deliver_due(worker="w")  # a dead, two delivered: the dead one still counts
    checks = client.get("/health/ready").json()["checks"]["outbox"]
    assert (checks["due"], checks["dead"], checks["status"]) == (0, 1, "ok")
