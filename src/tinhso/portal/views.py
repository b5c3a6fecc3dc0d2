"""Pages of the citizens' public-service portal (Cổng dịch vụ công): find a procedure, read
what it takes, track a dossier, and, once signed in, follow one's own dossiers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tinhso.catalog import selectors as catalog_selectors
from tinhso.catalog.models import ImplementingLevel, OnlineAvailability
from tinhso.core.errors import NotFound
from tinhso.core.models import Agency, AgencyKind
from tinhso.dossiers.states import Action, Status
from tinhso.payments.portal_views import bills_for_owner
from tinhso.portal import search, selectors
from tinhso.portal.templatetags.portal_tags import signin_url

PAGE_SIZE = 20
#: Tracking attempts allowed per client address in `TRACK_WINDOW_SECONDS`.
TRACK_ATTEMPTS = getattr(settings, "TINHSO_PORTAL_TRACK_ATTEMPTS", 10)
TRACK_WINDOW_SECONDS = getattr(settings, "TINHSO_PORTAL_TRACK_WINDOW_SECONDS", 600)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/not_found.html", status=404)


# --- finding a procedure -----------------------------------------------------------------------


def _online_choices() -> list[tuple[str, str]]:
    return [(search.ONLINE_ANY, _("Fully or partially online")), *OnlineAvailability.choices]


def home(request: HttpRequest) -> HttpResponse:
    context = {
        "fields": catalog_selectors.fields_list().filter(procedure_count__gt=0),
        "popular": [e for e in search.search("") if e.is_essential][:8],
    }
    return render(request, "portal/home.html", context)


def procedure_list(request: HttpRequest) -> HttpResponse:
    filters = {
        key: request.GET.get(key, "").strip() for key in ("q", "field", "agency", "level", "online")
    }
    agencies = Agency.objects.filter(is_active=True).only("pk", "code", "name", "kind")
    agency = next((a for a in agencies if a.code == filters["agency"]), None)
    entries = search.search(
        filters["q"],
        search.Filters(
            field=filters["field"],
            agency_id=agency.pk if agency else None,
            agency_kind=agency.kind if agency else "",
            level=filters["level"],
            online=filters["online"],
        ),
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query_without_page = urlencode({k: v for k, v in filters.items() if v})
    context = {
        "page": page,
        "total": len(entries),
        "filters": filters,
        "query_without_page": query_without_page,
        "fields": catalog_selectors.fields_list().filter(procedure_count__gt=0),
        "agencies": sorted(agencies, key=lambda a: (a.kind != "provincial_department", a.name)),
        "levels": ImplementingLevel.choices,
        "online_choices": _online_choices(),
        "level_labels": dict(ImplementingLevel.choices),
        "online_labels": dict(OnlineAvailability.choices),
        "has_filters": any(filters[k] for k in ("field", "agency", "level", "online")),
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, "portal/_results.html", context)
    return render(request, "portal/procedure_list.html", context)


def procedure_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        procedure = catalog_selectors.procedure_by_code(code)
    except NotFound:
        return _not_found(request)
    kinds = dict(AgencyKind.choices)
    context = {
        "procedure": procedure,
        "agency_kinds": [kinds.get(k, k) for k in procedure.agency_kinds],
        "agencies": [a for a in procedure.agencies.all() if a.is_active],
        "fees": procedure.fee_cases.all(),
        "documents": procedure.documents.all(),
        "bundles": catalog_selectors.bundles_with(procedure),
        "can_submit_online": procedure.is_active and procedure.online != OnlineAvailability.NONE,
        "submit_url": reverse("portal:procedure_submit", args=[procedure.code]),
    }
    return render(request, "portal/procedure_detail.html", context)


# --- tracking ----------------------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str:
    """The address attempts are counted against. Behind a reverse proxy, set the proxy to
    overwrite REMOTE_ADDR (never trust a client-sent X-Forwarded-For here)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _attempt_allowed(request: HttpRequest) -> bool:
    """Count one tracking attempt for the client; False once over the limit."""
    key = f"portal:track:{client_ip(request)}"
    if cache.add(key, 1, TRACK_WINDOW_SECONDS):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, TRACK_WINDOW_SECONDS)
        return True
    return count <= TRACK_ATTEMPTS


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest, code: str = "") -> HttpResponse:
    values = {"code": code, "factor": ""}
    errors: dict[str, str] = {}
    context: dict[str, Any] = {"values": values, "errors": errors}
    status = 200
    if request.method == "POST":
        values["code"] = request.POST.get("code", "").strip()
        values["factor"] = request.POST.get("factor", "").strip()
        if not values["code"]:
            errors["code"] = _("Enter the dossier code printed on your appointment slip.")
        if not values["factor"]:
            errors["factor"] = _(
                "Enter the phone number or the identification number given in the dossier."
            )
        if not errors:
            if not _attempt_allowed(request):
                context["limited"] = True
                status = 429
            else:
                result = selectors.dossier_track(values["code"], values["factor"])
                if result is None:
                    context["not_found"] = True
                else:
                    context["result"] = result
            # Personal data is never echoed back into the page.
            values["factor"] = ""
        else:
            status = 422
    return render(request, "portal/track.html", context, status=status)


def track_redirect(request: HttpRequest, code: str) -> HttpResponse:
    """`<base>/track/<code>`, as printed in the slips' QR codes."""
    return redirect("portal:track_code", code=code)


# --- my dossiers -------------------------------------------------------------------------------


def _require_citizen(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect(signin_url(request) or reverse("portal:home"))
    if not selectors.is_citizen(request.user):
        return render(request, "portal/citizens_only.html", status=403)
    return None


def my_list(request: HttpRequest) -> HttpResponse:
    refused = _require_citizen(request)
    if refused is not None:
        return refused
    page = Paginator(selectors.my_dossiers(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "portal/my_list.html", {"page": page})


def my_detail(request: HttpRequest, code: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(signin_url(request) or reverse("portal:home"))
    try:
        dossier = selectors.my_dossier(request.user, code)
    except NotFound:
        return _not_found(request)
    actions = dict(Action.choices)
    statuses = dict(Status.choices)
    events = [
        {
            "at": e.at,
            "action": actions.get(e.action, e.action),
            "status": statuses.get(e.to_status, e.to_status),
            "agency": e.agency.name,
            "reason": e.reason,
        }
        for e in selectors.dossier_timeline(dossier)
    ]
    context = {
        "dossier": dossier,
        "events": events,
        "bills": bills_for_owner(request.user, dossier),
    }
    return render(request, "portal/my_detail.html", context)
