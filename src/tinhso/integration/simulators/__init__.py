"""Built-in simulators of the systems we integrate with, mounted under /sim/ when
`TINHSO_SIMULATORS` is on (never in production: they have no authentication). They store what
they receive (`SimulatorRecord`) and can be broken on purpose (`SimulatorSwitch`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlsplit

from django.utils import timezone

from tinhso.integration.models import SimulatorSwitch

#: The simulators' clock; fault tests replace it to travel in time with the outbox's `now`.
clock: Callable[[], datetime] = timezone.now


def now() -> datetime:
    return clock()


@contextmanager
def clock_at(get_now: Callable[[], datetime]) -> Iterator[None]:
    global clock
    previous, clock = clock, get_now
    try:
        yield
    finally:
        clock = previous


def switch(simulator: str) -> SimulatorSwitch:
    return SimulatorSwitch.objects.get_or_create(simulator=simulator)[0]


def set_down(simulator: str, until: datetime | None) -> None:
    SimulatorSwitch.objects.update_or_create(simulator=simulator, defaults={"down_until": until})


def fail_next(simulator: str, count: int) -> None:
    SimulatorSwitch.objects.update_or_create(simulator=simulator, defaults={"fail_next": count})


def in_process_transport(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, bytes]:
    """Send an adapter's request through this project's URLconf with Django's test client,
    without a socket (tests; a demo with no server running)."""
    from django.test import Client

    path = urlsplit(url).path
    response = Client().post(
        path,
        data=body,
        content_type=headers.get("Content-Type", "application/json"),
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )
    return response.status_code, response.content
