"""`tinhso apiclients create|issue|rotate|revoke|scopes|list`: API clients of other systems
and their keys. `issue` and `rotate` print the new key once, alone on stdout (scripts read it);
it cannot be shown again. Runs as the system (actor None), audited with source "cli"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tinhso.core.errors import DomainError
from tinhso.core.models import Agency, Role
from tinhso.integration import clients
from tinhso.integration.models import ApiClient


def _scopes(raw: str) -> list[str]:
    return [s.strip() for s in raw.split(",") if s.strip()]


class Command(BaseCommand):
    help = "API clients of other systems: create, issue/rotate/revoke keys, list."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="register a client (and its technical official)")
        create.add_argument("name")
        create.add_argument("--scopes", required=True, help=", ".join(clients.API_SCOPES))
        create.add_argument("--rate", type=int, default=600, help="requests per minute")
        create.add_argument("--agency", help="agency code: the client acts in its scope")
        create.add_argument(
            "--role", action="append", choices=[r for r in Role.values if r != Role.ADMINISTRATOR]
        )
        issue = sub.add_parser("issue", help="issue a key; prints it once")
        issue.add_argument("name")
        issue.add_argument("--days", type=int, help="the key expires after this many days")
        rotate = sub.add_parser("rotate", help="new key; the old one expires after the overlap")
        rotate.add_argument("prefix")
        rotate.add_argument(
            "--overlap-hours", type=float, default=clients.DEFAULT_ROTATION_OVERLAP_SECONDS / 3600
        )
        revoke = sub.add_parser("revoke", help="refuse a key at once")
        revoke.add_argument("prefix")
        scopes = sub.add_parser("scopes", help="replace a client's scopes")
        scopes.add_argument("name")
        scopes.add_argument("scopes")
        sub.add_parser("list", help="clients, scopes and keys (prefixes only)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _create(self, options: dict[str, Any]) -> None:
        agency = None
        if options["agency"]:
            agency = Agency.objects.filter(code=options["agency"]).first()
            if agency is None:
                raise CommandError(f"no agency with code {options['agency']}")
        client = clients.api_client_create(
            actor=None,
            name=options["name"],
            scopes=_scopes(options["scopes"]),
            rate_limit_per_minute=options["rate"],
            agency=agency,
            roles=options["role"] or [Role.SPECIALIST],
            source="cli",
        )
        self.stderr.write(f"created {client.name} ({clients.technical_username(client)})")

    def _issue(self, options: dict[str, Any]) -> None:
        expires_at = None
        if options["days"] is not None:
            expires_at = timezone.now() + timedelta(days=options["days"])
        _key, plaintext = clients.api_key_issue(
            actor=None,
            client=clients.client_by_name(options["name"]),
            expires_at=expires_at,
            source="cli",
        )
        self.stderr.write("the key is shown once; store it now")
        self.stdout.write(plaintext)

    def _rotate(self, options: dict[str, Any]) -> None:
        old = clients.key_by_prefix(options["prefix"])
        _key, plaintext = clients.api_key_rotate(
            actor=None,
            key=old,
            overlap_seconds=round(options["overlap_hours"] * 3600),
            source="cli",
        )
        old.refresh_from_db()
        self.stderr.write(f"old key {old.prefix} works until {old.expires_at:%Y-%m-%d %H:%M %Z}")
        self.stdout.write(plaintext)

    def _revoke(self, options: dict[str, Any]) -> None:
        key = clients.api_key_revoke(
            actor=None, key=clients.key_by_prefix(options["prefix"]), source="cli"
        )
        self.stderr.write(f"revoked {key.prefix}")

    def _scopes(self, options: dict[str, Any]) -> None:
        client = clients.api_client_set_scopes(
            actor=None,
            client=clients.client_by_name(options["name"]),
            scopes=_scopes(options["scopes"]),
            source="cli",
        )
        self.stderr.write(f"{client.name}: {', '.join(client.scopes)}")

    def _list(self, options: dict[str, Any]) -> None:
        now = timezone.now()
        for client in ApiClient.objects.select_related("agency").prefetch_related("keys"):
            state = "active" if client.is_active else "inactive"
            agency = client.agency.code if client.agency else "-"
            self.stdout.write(
                f"{client.name}\t{state}\t{agency}\t{client.rate_limit_per_minute}/min\t"
                f"{','.join(client.scopes)}"
            )
            for key in client.keys.all():
                if key.revoked_at:
                    status = f"revoked {key.revoked_at:%Y-%m-%d}"
                elif key.expires_at and key.expires_at <= now:
                    status = f"expired {key.expires_at:%Y-%m-%d}"
                elif key.expires_at:
                    status = f"expires {key.expires_at:%Y-%m-%d %H:%M}"
                else:
                    status = "live"
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                self.stdout.write(f"  {key.prefix}\t{status}\tlast used {used}")
