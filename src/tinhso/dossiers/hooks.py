"""Notification hooks: functions called with a dossier event after the transaction that
wrote it commits (never for a change that rolled back). The event is the committed row as the
service wrote it, with its dossier (the dossier's state right after the event), so a hook
needs no query to read them back. The portal's notifications and
the integration platform's outbox register here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

EventHook = Callable[[Any], None]
_hooks: list[EventHook] = []

#: Hooks that run inside the transition's transaction, with the event itself: whatever they
#: write (an outbox message) commits or rolls back together with the change.
InTransactionHook = Callable[[Any], None]
_in_transaction: list[InTransactionHook] = []


def register_in_transaction(hook: InTransactionHook) -> InTransactionHook:
    if hook not in _in_transaction:
        _in_transaction.append(hook)
    return hook


def unregister_in_transaction(hook: InTransactionHook) -> None:
    if hook in _in_transaction:
        _in_transaction.remove(hook)


def run_in_transaction(event: Any) -> None:
    """Called by the services right after an event is written; an exception here rolls the
    whole transition back (nothing is half-done)."""
    for hook in list(_in_transaction):
        hook(event)


def register(hook: EventHook) -> EventHook:
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def unregister(hook: EventHook) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


def fire(event: Any) -> None:
    for hook in list(_hooks):
        try:
            hook(event)
        except Exception:  # a failing subscriber must not break the officials' work
            logger.exception("dossier event hook %r failed for event %s", hook, event.pk)
