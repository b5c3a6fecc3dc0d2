"""The provincial integration platform (LGSP): the transactional outbox of messages to other
systems, the worker's heartbeat, the log of reads of a person's data, the API clients of
other systems with their keys and request log, and what the built-in simulators received."""

from __future__ import annotations

from typing import ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tinhso.core.models import Agency, AppendOnlyModel, AppendOnlyQuerySet, User
from tinhso.core.scoping import ScopeFields


class MessageState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead letter")
    DISCARDED = "discarded", _("Discarded")


class OutboxMessage(models.Model):
    """A message to another system, written in the same transaction as the change that
    causes it, delivered later by the worker (at least once; receivers deduplicate by
    `idempotency_key`). Messages with the same `ordering_key` are delivered in `id` order:
    a later one waits until every earlier one is delivered or settled."""

    adapter = models.CharField(_("adapter"), max_length=50, db_index=True)
    topic = models.CharField(_("topic"), max_length=100)
    ordering_key = models.CharField(_("ordering key"), max_length=100, blank=True, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    state = models.CharField(
        _("state"), max_length=10, choices=MessageState.choices, default=MessageState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["ordering_key", "state", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.adapter}/{self.topic} #{self.pk} ({self.state})"


class WorkerHeartbeat(models.Model):
    """The last sign of life of each outbox worker (readiness checks read it)."""

    worker = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField(default=timezone.now)
    delivered = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.worker} @ {self.beat_at:%H:%M:%S}"


class PersonalDataAccess(AppendOnlyModel):
    """One read of a person's data (a population-database look-up, a dossier opened): who,
    when, whose, why. Append-only."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit_path = models.CharField(max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=50)
    subject_id_number = models.CharField(_("identification number"), max_length=14, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=255)
    dossier_code = models.CharField(_("dossier"), max_length=60, blank=True)
    outcome = models.CharField(_("outcome"), max_length=30)

    objects = AppendOnlyQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(unit_path="unit_path", agency="agency")

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.subject_id_number}"


class ApiClient(models.Model):
    """Another system allowed to call the inbound API, with its scopes and rate limit."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="api_clients"
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), default=600)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A key of an API client, stored as a hash; the prefix finds it without scanning."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.client} {self.prefix}…"


class ApiRequestLog(models.Model):
    """One inbound request: client, endpoint, status and timing (no personal data)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    key_prefix = models.CharField(max_length=16, blank=True)
    method = models.CharField(max_length=10)
    endpoint = models.CharField(max_length=255)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["client", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.method} {self.endpoint} {self.status}"


class SimulatorRecord(models.Model):
    """What a built-in simulator received (the tests and the demo compare against it)."""

    simulator = models.CharField(max_length=50, db_index=True)
    service = models.CharField(max_length=100)
    idempotency_key = models.CharField(max_length=100, blank=True, db_index=True)
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.simulator}/{self.service} #{self.pk}"


class SimulatorSwitch(models.Model):
    """How a simulator behaves now: up, down (connection refused as 503), or failing the
    next N calls with 500 — so fault tests and the demo can break it on purpose."""

    simulator = models.CharField(max_length=50, unique=True)
    down_until = models.DateTimeField(null=True, blank=True)
    fail_next = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.simulator
