"""The outbox worker: a loop around `outbox.deliver_due` (and the periodic jobs of
`tinhso.core.schedule`) that sleeps when there is nothing to
do, survives a database hiccup, beats its heartbeat and stops cleanly on SIGTERM/SIGINT
(the message in flight finishes; one cut short by SIGKILL is taken over by another worker when
its lease runs out, and the partner drops the repeat by its idempotency key)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from types import FrameType

from django.db import DatabaseError, close_old_connections

from tinhso.core import schedule
from tinhso.integration import outbox

logger = logging.getLogger(__name__)


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(
        self,
        *,
        name: str | None = None,
        interval: float = 1.0,
        limit: int = 50,
        run_schedule: bool = True,
    ) -> None:
        self.name = name or default_name()
        #: Also run the periodic jobs of `tinhso.core.schedule` that are due (once per slot
        #: across every worker).
        self.run_schedule = run_schedule
        self.interval = interval
        self.limit = limit
        self.stopping = threading.Event()
        self.delivered = 0

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        if signum is not None:
            logger.info("outbox worker %s: signal %s, stopping", self.name, signum)
        self.stopping.set()

    def run_once(self) -> int:
        close_old_connections()
        delivered = outbox.deliver_due(worker=self.name, limit=self.limit)
        self.delivered += delivered
        if self.run_schedule:
            schedule.run_due()
        return delivered

    def run(self, *, once: bool = False, install_signals: bool = True) -> int:
        if install_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        logger.info("outbox worker %s started", self.name)
        while not self.stopping.is_set():
            try:
                delivered = self.run_once()
            except DatabaseError:
                logger.exception("outbox worker %s: database error, trying again", self.name)
                delivered = 0
            if once:
                break
            if delivered < self.limit:  # a full round means more may be waiting
                self.stopping.wait(self.interval)
        logger.info("outbox worker %s stopped after %s deliveries", self.name, self.delivered)
        return self.delivered
