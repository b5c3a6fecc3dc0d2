"""Notification hooks: functions called with a dossier event's id after the transaction
that wrote it commits (never for a change that rolled back). The portal's notifications and
the integration platform's outbox register here."""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

EventHook = Callable[[int], None]
_hooks: list[EventHook] = []


def register(hook: EventHook) -> EventHook:
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def unregister(hook: EventHook) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


def fire(event_id: int) -> None:
    for hook in list(_hooks):
        try:
            hook(event_id)
        except Exception:  # a failing subscriber must not break the officials' work
            logger.exception("dossier event hook %r failed for event %s", hook, event_id)
