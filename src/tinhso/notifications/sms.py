"""Sending a text message (SMS): one small interface, `SmsGateway.send(phone, text)`, and the
backend `TINHSO_SMS_BACKEND` names (a dotted path). Two come built in: the simulated gateway
(default), which stores what it "sent" as a `SimulatorRecord` (`simulator="sms"`) once per
idempotency key and can be broken on purpose like the other simulators, and a console
gateway that prints. A real operator's gateway subclasses `SmsGateway` and raises `SmsError`."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from tinhso.integration import simulators
from tinhso.integration.models import SimulatorRecord, SimulatorSwitch

logger = logging.getLogger(__name__)

SIMULATOR = "sms"


class SmsError(Exception):
    """The gateway did not take the message; `retryable` says whether a later try may work
    (an unreachable gateway: yes; a number the operator refuses: no)."""

    def __init__(self, detail: str, *, retryable: bool = True) -> None:
        self.detail = detail
        self.retryable = retryable
        super().__init__(detail)


class SmsGateway:
    """Sends one text to one phone number. `idempotency_key` names the message: a gateway
    that supports a client reference passes it on, so a repeat is not sent twice."""

    def send(self, phone: str, text: str, *, idempotency_key: str = "") -> None:
        raise NotImplementedError


class ConsoleSmsGateway(SmsGateway):
    """Prints the message (development without the simulator's table)."""

    def send(self, phone: str, text: str, *, idempotency_key: str = "") -> None:
        sys.stdout.write(f"SMS to {phone} [{idempotency_key}]\n{text}\n{'-' * 40}\n")
        sys.stdout.flush()


class SimulatedSmsGateway(SmsGateway):
    """Stores each message once per idempotency key (a repeat is accepted and stores
    nothing); the `SimulatorSwitch` row `sms` makes it fail: `down_until` in the future →
    every call fails, `fail_next = N` → the next N calls fail (both retryable)."""

    def send(self, phone: str, text: str, *, idempotency_key: str = "") -> None:
        failure = ""
        with transaction.atomic():
            # The switch row, locked, serialises the gateway's calls (repeats, fail_next).
            simulators.switch(SIMULATOR)
            state = SimulatorSwitch.objects.select_for_update().get(simulator=SIMULATOR)
            if state.down_until is not None and state.down_until > simulators.now():
                failure = "the SMS gateway is down (simulated)"
            elif state.fail_next > 0:
                state.fail_next -= 1
                state.save(update_fields=["fail_next"])  # committed: the failure counts
                failure = "the SMS gateway failed (simulated)"
            elif not (
                idempotency_key
                and SimulatorRecord.objects.filter(
                    simulator=SIMULATOR, idempotency_key=idempotency_key
                ).exists()
            ):
                SimulatorRecord.objects.create(
                    simulator=SIMULATOR,
                    service="send",
                    idempotency_key=idempotency_key,
                    received_at=simulators.now(),
                    payload={"phone": phone, "text": text},
                )
        if failure:
            raise SmsError(failure, retryable=True)


def get_gateway() -> SmsGateway:
    """The gateway `TINHSO_SMS_BACKEND` names (read at each call: tests override it)."""
    return import_string(settings.TINHSO_SMS_BACKEND)()
