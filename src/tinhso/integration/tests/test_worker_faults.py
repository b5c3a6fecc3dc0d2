"""Faults between us and the national portal: the portal down for a while, failing once,
refusing a message; and a worker killed in the middle of a delivery."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tinhso.core.models import AuditRecord
from tinhso.dossiers import services
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.dossiers.tests.conftest import Desk, vn
from tinhso.integration import outbox, simulators
from tinhso.integration.adapters import national_portal
from tinhso.integration.models import MessageState, OutboxMessage, SimulatorRecord

desk = dossier_fixtures.desk  # the dossier personas, shared
T0 = vn(2026, 11, 30, 8, 0)
SIM = "national_portal"


@pytest.fixture
def portal():
    previous = national_portal.set_transport(simulators.in_process_transport)
    outbox.rng.seed(3)
    yield
    national_portal.set_transport(previous)


def three_events(desk: Desk) -> Dossier:
    """Submitted, received, assigned: seq 1, 2, 3."""
    return desk.in_processing(T0)


def received_seqs(dossier: Dossier) -> list[int]:
    return [
        r.payload["seq"]
        for r in SimulatorRecord.objects.filter(simulator=SIM)
        if r.payload.get("dossier_code", r.payload.get("dossier", {}).get("code")) == dossier.code
    ]


def test_while_the_portal_is_down_messages_queue_then_all_go_in_order(desk, portal):
    dossiers = [three_events(desk), three_events(desk)]
    start = timezone.now()
    simulators.set_down(SIM, start + timedelta(minutes=30))
    now = start
    rounds_while_down = 0
    while now < start + timedelta(hours=3):
        with simulators.clock_at(lambda: now):  # noqa: B023
            outbox.deliver_due(worker="w", now=now)
        if now < start + timedelta(minutes=30):
            rounds_while_down += 1
            assert SimulatorRecord.objects.filter(simulator=SIM).count() == 0
        now += timedelta(minutes=1)
    assert rounds_while_down == 30
    messages = list(OutboxMessage.objects.filter(adapter=SIM))
    assert {m.state for m in messages} == {MessageState.DELIVERED}
    # Each dossier's head was retried with growing gaps, not every minute.
    heads = [m for m in messages if m.payload["seq"] == 1]
    assert all(2 <= m.attempts < 30 for m in heads)
    assert all("503" in m.last_error or m.last_error == "" for m in messages)
    for dossier in dossiers:
        assert received_seqs(dossier) == [1, 2, 3]
    assert SimulatorRecord.objects.filter(simulator=SIM).count() == 6


def test_a_500_then_a_200_delivers_exactly_once(desk, portal):
    dossier = desk.submit(T0)
    simulators.fail_next(SIM, 1)
    now = timezone.now()
    assert outbox.deliver_due(worker="w", now=now) == 0
    [message] = OutboxMessage.objects.all()
    assert message.state == MessageState.PENDING and "HTTP 500" in message.last_error
    assert outbox.deliver_due(worker="w", now=message.next_attempt_at) == 1
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED and message.attempts == 2
    assert received_seqs(dossier) == [1]
    assert simulators.switch(SIM).fail_next == 0


def test_a_refused_message_dies_and_an_administrator_retries_it(desk, portal, settings):
    dossier = desk.submit(T0)
    services.dossier_receive(actor=desk.desk, dossier=dossier, at=T0)
    settings.TINHSO_NATIONAL_PORTAL_URL = "http://testserver/sim/wrong-address"  # 404
    outbox.deliver_due(worker="w")
    first, second = OutboxMessage.objects.filter(adapter=SIM)
    first.refresh_from_db()
    assert first.state == MessageState.DEAD and "HTTP 404" in first.last_error
    assert second.state == MessageState.PENDING and second.attempts == 0  # blocked behind it

    settings.TINHSO_NATIONAL_PORTAL_URL = "http://testserver/sim/national-portal"
    with pytest.raises(Exception) as refused:
        outbox.outbox_retry(actor=desk.desk, message=first)
    assert refused.typename == "OutOfScope"
    outbox.outbox_retry(actor=desk.world.administrator, message=first)
    assert outbox.deliver_due(worker="w") == 2
    assert received_seqs(dossier) == [1, 2]
    assert AuditRecord.objects.filter(action="outbox.retry").count() == 1


def test_a_discarded_dead_message_lets_the_next_ones_go(desk, portal, settings):
    dossier = desk.submit(T0)
    services.dossier_receive(actor=desk.desk, dossier=dossier, at=T0)
    settings.TINHSO_NATIONAL_PORTAL_URL = "http://testserver/sim/wrong-address"
    outbox.deliver_due(worker="w")
    first = OutboxMessage.objects.order_by("id").first()
    settings.TINHSO_NATIONAL_PORTAL_URL = "http://testserver/sim/national-portal"
    outbox.outbox_discard(actor=desk.world.administrator, message=first, reason="pushed by hand")
    assert outbox.deliver_due(worker="w") == 1
    assert received_seqs(dossier) == [2]
    first.refresh_from_db()
    assert first.state == MessageState.DISCARDED
    assert AuditRecord.objects.filter(action="outbox.discard").count() == 1


# --- a real worker process, killed while it delivers --------------------------------------------

SEED = """
from django.db import transaction
from tinhso.integration import outbox
with transaction.atomic():
    outbox.enqueue(adapter="national_portal", topic="catalog",
                   payload={"service": "DongBoTTHC", "procedure": {"code": "1.000001"}},
                   ordering_key="procedure:1.000001", idempotency_key="national_portal:tthc:k1")
"""


def _tinhso() -> list[str]:
    return [sys.executable, "-m", "tinhso"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _query(db_file: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_file, timeout=10) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_is_taken_over_and_the_portal_holds_one_copy(tmp_path):
    """Against a real file database (SQLite, whatever the suite runs on): a slow simulator
    served over HTTP, a worker killed with SIGKILL while it waits for the answer, and a second
    worker that takes the message over once the lease has run out."""
    port = _free_port()
    db_file = tmp_path / "tinhso.sqlite3"
    env = {
        **os.environ,
        "TINHSO_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{db_file}",
        "TINHSO_OUTBOX_LEASE_SECONDS": "2",
        "TINHSO_SIMULATOR_DELAY_SECONDS": "3",
        "TINHSO_SIMULATORS": "1",
        "TINHSO_NATIONAL_PORTAL_URL": f"http://127.0.0.1:{port}/sim/national-portal",
        "TINHSO_TASKS_BACKEND": "django_tasks.backends.dummy.DummyBackend",
        "TINHSO_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args: str) -> None:
        subprocess.run([*_tinhso(), *args], env=env, check=True, capture_output=True, timeout=60)

    run("migrate", "--no-input")
    run("shell", "-c", SEED)
    server = subprocess.Popen(
        [*_tinhso(), "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        worker = subprocess.Popen(
            [*_tinhso(), "outbox", "work", "--interval", "0.2", "--worker", "doomed"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # The simulator has stored the message and is "slow" to answer: kill the worker now.
        _wait(
            lambda: _query(db_file, "SELECT count(*) FROM integration_simulatorrecord")[0][0] == 1,
            20,
            "the simulator to receive the message",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(5)
        [(state, locked_until)] = _query(
            db_file, "SELECT state, locked_until FROM integration_outboxmessage"
        )
        assert state == "pending" and locked_until is not None  # claimed, never settled

        time.sleep(2.1)  # the dead worker's lease runs out
        run("outbox", "work", "--once", "--worker", "successor")
        [(state, attempts)] = _query(
            db_file, "SELECT state, attempts FROM integration_outboxmessage"
        )
        assert state == "delivered"
        assert attempts == 1  # the killed attempt never settled; the successor's counts
        assert _query(
            db_file,
            "SELECT count(*), min(idempotency_key) FROM integration_simulatorrecord",
        ) == [(1, "national_portal:tthc:k1")]
        workers = {w for (w,) in _query(db_file, "SELECT worker FROM integration_workerheartbeat")}
        assert "successor" in workers
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        server.terminate()
        server.wait(5)
