"""API clients of other systems and their keys: the services that create, issue, rotate and
revoke them (administrators only, audited) and the check of a presented key.

A key reads `tsk_<prefix>_<secret>`: the prefix (8 characters, stored in clear) finds the row
without scanning; the secret (32 random bytes) is never stored, only the SHA-256 of the whole
key. Each client acts through a technical official, `api:<client name>`, of the client's
agency, so every selector and service applies the same administrative scope to a system as to
a person (see docs/integration.md)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tinhso.core.audit import audit_record, snapshot
from tinhso.core.errors import DomainError, NotFound, ValidationFailed
from tinhso.core.models import Agency, Role, User, UserKind
from tinhso.core.services import official_set_roles, require_admin
from tinhso.integration.models import ApiClient, ApiKey

KEY_SCHEME = "tsk"
PREFIX_LENGTH = 8
SECRET_BYTES = 32
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
#: How long the old key keeps working after a rotation, so the caller can switch over.
DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600
#: `last_used_at` is written at most this often per key (not one write per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)
TECHNICAL_USER_PREFIX = "api:"

#: The scopes a client may hold: each names a group of endpoints.
API_SCOPES: dict[str, str] = {
    "catalog:read": "Read the procedure catalog",
    "dossiers:read": "Read dossiers in the client's scope",
    "dossiers:write": "Submit dossiers and apply transitions",
    "units:read": "Read units, agencies, officials, the calendar and the audit trail",
    "govstack": "The GovStack building-block endpoints",
    "payments:read": "Read bills, payments, orders and reconciliations in the client's scope",
    "payments:write": "Record cash, exempt, create payment orders, request and decide refunds",
    "ioc:read": "Read indicators, the service index and targets in the client's scope",
}

#: The one place that says which scope an operation needs: (router tag, HTTP method) → scope.
#: An operation missing here is closed to API keys (session users are unaffected).
OPERATION_SCOPES: dict[tuple[str, str], str] = {
    ("catalog", "GET"): "catalog:read",
    ("dossiers", "GET"): "dossiers:read",
    ("dossiers", "POST"): "dossiers:write",
    ("core", "GET"): "units:read",
    ("govstack", "GET"): "govstack",
    ("govstack", "POST"): "govstack",
    ("govstack", "PUT"): "govstack",
    ("payments", "GET"): "payments:read",
    ("payments", "POST"): "payments:write",
    ("ioc", "GET"): "ioc:read",
}

CLIENT_FIELDS = ("name", "agency", "scopes", "rate_limit_per_minute", "is_active")
KEY_FIELDS = ("client", "prefix", "expires_at", "revoked_at")


class InvalidApiKey(DomainError):
    """Unknown, malformed, revoked or expired key, or a key of an inactive client. One code
    for all of them, so a caller cannot probe which keys exist."""

    code = "invalid_api_key"
    status = 401
    default_message = gettext_lazy("The API key is not valid.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = gettext_lazy("Too many requests. Try again later.")

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(retry_after=retry_after)


def required_scope(tags: Iterable[str] | None, method: str) -> str | None:
    """The scope an operation with these router tags answers `method` under, or None."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    for tag in tags or ():
        scope = OPERATION_SCOPES.get((tag, method))
        if scope is not None:
            return scope
    return None


# --- keys -----------------------------------------------------------------------------------


def hash_key(plaintext: str) -> str:
    # A key carries 256 random bits, so no dictionary or brute-force attack applies: a fast
    # hash suffices, and a slow password hasher would only cost time on every request.
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    while True:
        prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _i in range(PREFIX_LENGTH))
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    return prefix, f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def key_prefix(plaintext: str) -> str | None:
    """The prefix of a well-formed key (safe to log), or None."""
    scheme, _sep, rest = plaintext.partition("_")
    prefix, _sep, secret = rest.partition("_")
    if scheme != KEY_SCHEME or len(prefix) != PREFIX_LENGTH or not secret:
        return None
    if any(c not in PREFIX_ALPHABET for c in prefix):
        return None
    return prefix


def api_key_check(plaintext: str, *, now: datetime | None = None) -> ApiKey:
    """The live key matching `plaintext` (with its client), or `InvalidApiKey`."""
    prefix = key_prefix(plaintext)
    if prefix is None:
        raise InvalidApiKey()
    key = ApiKey.objects.select_related("client").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_key(plaintext)):
        raise InvalidApiKey()
    now = now or timezone.now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        raise InvalidApiKey()
    if not key.client.is_active:
        raise InvalidApiKey()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def technical_username(client: ApiClient) -> str:
    return f"{TECHNICAL_USER_PREFIX}{client.name}"


def technical_user(client: ApiClient) -> User:
    """The official an API client acts as."""
    try:
        return User.objects.get(username=technical_username(client))
    except User.DoesNotExist as exc:
        raise InvalidApiKey() from exc


# --- services -------------------------------------------------------------------------------


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in wanted if s not in API_SCOPES]
    if unknown:
        raise ValidationFailed(
            _("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}, field="scopes"
        )
    return wanted


@transaction.atomic
def api_client_create(
    *,
    actor: User | None,
    name: str,
    scopes: Iterable[str],
    rate_limit_per_minute: int,
    agency: Agency | None = None,
    roles: Iterable[str] = (Role.SPECIALIST,),
    source: str = "web",
) -> ApiClient:
    """Register another system, with the technical official `api:<name>` it acts as: an
    official of `agency` holding `roles` (no password, so nobody can sign in as it)."""
    require_admin(actor)
    if agency is not None:
        require_admin(actor, agency)
    name = name.strip()
    if not name or len(technical_username(ApiClient(name=name))) > 150:
        raise ValidationFailed(_("Give the client a name of at most 146 characters."), field="name")
    if rate_limit_per_minute < 1:
        raise ValidationFailed(_("The rate limit must be at least 1."), field="rate_limit")
    role_list = sorted(set(roles))
    if Role.ADMINISTRATOR in role_list:
        # A system never administers the platform: that stays with a signed-in person.
        raise ValidationFailed(_("An API client cannot be an administrator."), field="roles")
    if ApiClient.objects.filter(name=name).exists():
        raise ValidationFailed(_("An API client with this name exists."), field="name")
    client = ApiClient.objects.create(
        name=name,
        agency=agency,
        scopes=_check_scopes(scopes),
        rate_limit_per_minute=rate_limit_per_minute,
    )
    username = technical_username(client)
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(_("A user named %(name)s exists.") % {"name": username})
    user = User.objects.create(
        username=username,
        full_name=f"API: {name}"[:150],
        kind=UserKind.OFFICIAL,
        agency=agency,
        password=make_password(None),
    )
    audit_record(
        actor=actor,
        action="official.create",
        obj=user,
        after=snapshot(user, ("username", "full_name", "agency")),
        source=source,
    )
    official_set_roles(actor=actor, official=user, roles=role_list, source=source)
    audit_record(
        actor=actor,
        action="api_client.create",
        obj=client,
        after=snapshot(client, CLIENT_FIELDS),
        source=source,
    )
    return client


def _require_admin_for(actor: User | None, client: ApiClient) -> None:
    require_admin(actor)
    if client.agency_id is not None:
        require_admin(actor, client.agency)


def _update_client(
    *, actor: User | None, client: ApiClient, values: dict, action: str, source: str
) -> ApiClient:
    _require_admin_for(actor, client)
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    before = snapshot(client, CLIENT_FIELDS)
    for field, value in values.items():
        setattr(client, field, value)
    after = snapshot(client, CLIENT_FIELDS)
    if after != before:
        client.save(update_fields=list(values))
        audit_record(
            actor=actor, action=action, obj=client, before=before, after=after, source=source
        )
    return client


@transaction.atomic
def api_client_set_scopes(
    *, actor: User | None, client: ApiClient, scopes: Iterable[str], source: str = "web"
) -> ApiClient:
    return _update_client(
        actor=actor,
        client=client,
        values={"scopes": _check_scopes(scopes)},
        action="api_client.set_scopes",
        source=source,
    )


@transaction.atomic
def api_client_set_active(
    *, actor: User | None, client: ApiClient, is_active: bool, source: str = "web"
) -> ApiClient:
    """Suspend (or resume) a client: every key of an inactive client is refused."""
    return _update_client(
        actor=actor,
        client=client,
        values={"is_active": is_active},
        action="api_client.activate" if is_active else "api_client.deactivate",
        source=source,
    )


def _issue(
    *, actor: User | None, client: ApiClient, expires_at: datetime | None, action: str, source: str
) -> tuple[ApiKey, str]:
    prefix, plaintext = _new_key()
    key = ApiKey.objects.create(
        client=client, prefix=prefix, key_hash=hash_key(plaintext), expires_at=expires_at
    )
    # The audit row holds the prefix only: never the key or its hash.
    audit_record(
        actor=actor, action=action, obj=key, after=snapshot(key, KEY_FIELDS), source=source
    )
    return key, plaintext


@transaction.atomic
def api_key_issue(
    *,
    actor: User | None,
    client: ApiClient,
    expires_at: datetime | None = None,
    source: str = "web",
) -> tuple[ApiKey, str]:
    """A new key for `client`; the plaintext is returned here once and stored nowhere."""
    _require_admin_for(actor, client)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(_("The expiry must be in the future."), field="expires_at")
    return _issue(
        actor=actor, client=client, expires_at=expires_at, action="api_key.issue", source=source
    )


def _live_key(key: ApiKey) -> ApiKey:
    key = ApiKey.objects.select_for_update().select_related("client").get(pk=key.pk)
    if key.revoked_at is not None:
        raise ValidationFailed(_("The key is already revoked."))
    return key


@transaction.atomic
def api_key_rotate(
    *,
    actor: User | None,
    key: ApiKey,
    overlap_seconds: int = DEFAULT_ROTATION_OVERLAP_SECONDS,
    source: str = "web",
) -> tuple[ApiKey, str]:
    """Issue a successor of `key` and let `key` expire after `overlap_seconds`, so the caller
    can deploy the new key without downtime. Returns the new key and its plaintext."""
    _require_admin_for(actor, key.client)
    if overlap_seconds < 0:
        raise ValidationFailed(_("The overlap cannot be negative."), field="overlap_seconds")
    key = _live_key(key)
    now = timezone.now()
    if key.expires_at is not None and key.expires_at <= now:
        raise ValidationFailed(_("The key has already expired; issue a new one."))
    before = snapshot(key, KEY_FIELDS)
    ends = now + timedelta(seconds=overlap_seconds)
    key.expires_at = ends if key.expires_at is None else min(key.expires_at, ends)
    key.save(update_fields=["expires_at"])
    audit_record(
        actor=actor,
        action="api_key.rotate",
        obj=key,
        before=before,
        after=snapshot(key, KEY_FIELDS),
        source=source,
    )
    return _issue(
        actor=actor, client=key.client, expires_at=None, action="api_key.issue", source=source
    )


@transaction.atomic
def api_key_revoke(*, actor: User | None, key: ApiKey, source: str = "web") -> ApiKey:
    """Refuse `key` from now on (at once, unlike a rotation)."""
    _require_admin_for(actor, key.client)
    key = _live_key(key)
    before = snapshot(key, KEY_FIELDS)
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="api_key.revoke",
        obj=key,
        before=before,
        after=snapshot(key, KEY_FIELDS),
        source=source,
    )
    return key


# --- look-ups for the console command -------------------------------------------------------


def client_by_name(name: str) -> ApiClient:
    client = ApiClient.objects.filter(name=name).first()
    if client is None:
        raise NotFound(_("No API client named %(name)s.") % {"name": name})
    return client


def key_by_prefix(prefix: str) -> ApiKey:
    key = ApiKey.objects.select_related("client").filter(prefix=prefix).first()
    if key is None:
        raise NotFound(_("No API key with prefix %(prefix)s.") % {"prefix": prefix})
    return key
