"""The slips (phiếu) as PDFs: `GET /dossiers/<pk>/slips/<kind>.pdf` (wired as `dossiers:slip`).

The dossier is looked up in the user's scope, so an official of another commune gets the
same 404 as for a dossier that does not exist."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tinhso.core.errors import NotFound
from tinhso.dossiers import selectors
from tinhso.dossiers.slips import SlipKind, render_slip_pdf, slip_available


@login_required
@require_GET
def slip_pdf(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    if kind not in SlipKind.values:
        raise Http404("Unknown slip.")
    try:
        dossier = selectors.dossier_get(request.user, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    if not slip_available(dossier, kind):
        raise Http404("This dossier has no such slip.")
    response = HttpResponse(render_slip_pdf(dossier, kind), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{dossier.code}-{kind}.pdf"'
    # Slips carry personal data: no shared caches.
    response["Cache-Control"] = "private, no-store"
    return response
