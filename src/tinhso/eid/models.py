"""What the built-in e-ID provider simulator keeps: its signing key and the authorization codes
it has issued. The client side (our sign-in) keeps its per-attempt state in the session."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SimulatorKey(models.Model):
    """The simulator's RSA signing key, generated once and kept so that restarts keep it (and
    ID tokens issued before a restart still verify)."""

    kid = models.CharField(_("key id"), max_length=100, unique=True)
    private_jwk = models.JSONField(_("private key (JWK)"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("e-ID simulator signing key")
        verbose_name_plural = _("e-ID simulator signing keys")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.kid


class SimulatedAuthCode(models.Model):
    """A one-time authorization code issued by the simulator. Only the code's SHA-256 is
    stored; `used_at` is set by the one request that redeems it."""

    code_hash = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=200)
    redirect_uri = models.CharField(max_length=1000)
    code_challenge = models.CharField(max_length=128)
    nonce = models.CharField(max_length=255, blank=True)
    scope = models.CharField(max_length=255, blank=True)
    claims = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("simulated authorization code")
        verbose_name_plural = _("simulated authorization codes")

    def __str__(self) -> str:
        return f"{self.client_id} {self.created_at:%Y-%m-%d %H:%M:%S}"
