"""Background tasks of the integration platform (django-tasks). They orchestrate; the work
is in `outbox.deliver_due`."""

from __future__ import annotations

import logging
import os
import socket

from django.conf import settings
from django_tasks import task, task_backends
from django_tasks.backends.immediate import ImmediateBackend

from tinhso.integration import outbox

logger = logging.getLogger(__name__)


@task()
def deliver_outbox(limit: int = 50) -> int:
    """Deliver what is due now; the outbox worker's loop does the same on its own schedule."""
    return outbox.deliver_due(worker=f"task@{socket.gethostname()}:{os.getpid()}", limit=limit)


def kick_delivery() -> None:
    """Queue `deliver_outbox` after a commit that wrote outbox messages. Never run inline
    (the immediate backend, e.g. in a test or a bare development setup): the partner's latency
    would land in the official's request. A failing queue only delays delivery: the outbox
    worker polls."""
    if not settings.TINHSO_OUTBOX_KICK_TASK:
        return  # the outbox worker (`tinhso outbox work`) polls; no task rows pile up
    if isinstance(task_backends[deliver_outbox.backend], ImmediateBackend):
        return
    try:
        deliver_outbox.enqueue()
    except Exception:
        logger.exception("could not queue the outbox delivery task")
