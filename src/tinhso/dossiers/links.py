"""Public links to a dossier (printed on slips, sent in notifications)."""

from __future__ import annotations

from django.conf import settings

from tinhso.dossiers.models import Dossier


def tracking_url(dossier: Dossier) -> str:
    """The public tracking page of `dossier` (the slips' QR codes encode it)."""
    return f"{settings.TINHSO_PUBLIC_BASE_URL.rstrip('/')}/track/{dossier.code}"
