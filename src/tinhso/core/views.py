"""Back-office pages for the shared registers. Views parse input, call a selector or a
service, and render; the rules live in services, selectors and `scoping`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tinhso.core import selectors, services
from tinhso.core.errors import DomainError, NotFound
from tinhso.core.models import AdministrativeUnit, Agency, AgencyKind, OverrideKind, Role, User
from tinhso.core.scoping import scope, scope_of

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _get_or_404(queryset: Any, user: Any, pk: Any) -> Any:
    try:
        return selectors.get_in_scope(queryset, user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


#: Roles whose day is spent on dossiers: they land on their inbox after signing in.
DOSSIER_ROLES = frozenset(
    {Role.DESK_OFFICER, Role.SPECIALIST, Role.DEPARTMENT_LEADER, Role.AGENCY_LEADER}
)


def landing_url(user: User) -> str:
    """Where an official lands after signing in (without a `next`): the dossier inbox for
    those who handle dossiers, the operations centre for provincial leaders, the overview
    for administrators."""
    roles = set(user.role_set)
    if roles & DOSSIER_ROLES:
        return reverse("dossiers:inbox")
    if Role.PROVINCIAL_LEADER in roles:
        return reverse("ioc:overview")
    return reverse("core:home")


class SignInView(auth_views.LoginView):
    template_name = "core/signin.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return landing_url(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if settings.DEMO_MODE:
            from tinhso.core.demo import demo_accounts

            context["demo_accounts"] = demo_accounts()
        return context


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "unit_count": selectors.units_list(user).count(),
        "agency_count": selectors.agencies_list(user).count(),
        "official_count": selectors.officials_list(user).count(),
        "recent_audit": selectors.audit_list(user)[:10],
        "user_scope": scope_of(user),
    }
    return render(request, "core/home.html", context)


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    units = selectors.units_list(request.user, query=query)
    return render(request, "core/unit_list.html", {"page": _page(request, units), "query": query})


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = _get_or_404(AdministrativeUnit.objects.select_related("parent"), request.user, pk)
    context = {
        "unit": unit,
        "children": scope(unit.children.all(), request.user),
        "agencies": scope(unit.agencies.all(), request.user),
        "successors": unit.successors.all(),
        "predecessors": unit.predecessors.all(),
        "audit": selectors.audit_for_object(unit)[:100],
    }
    return render(request, "core/unit_detail.html", context)


@login_required
def agency_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    agencies = selectors.agencies_list(request.user, query=query, kind=kind)
    return render(
        request,
        "core/agency_list.html",
        {
            "page": _page(request, agencies),
            "query": query,
            "kind": kind,
            "kinds": AgencyKind.choices,
        },
    )


@login_required
def agency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agency = _get_or_404(Agency.objects.select_related("unit", "parent"), request.user, pk)
    context = {
        "agency": agency,
        "departments": agency.departments.all(),
        "officials": selectors.officials_list(request.user, agency_id=agency.pk),
        "audit": selectors.audit_for_object(agency)[:100],
    }
    return render(request, "core/agency_detail.html", context)


@login_required
def official_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    officials = selectors.officials_list(request.user, query=query, role=role)
    return render(
        request,
        "core/official_list.html",
        {"page": _page(request, officials), "query": query, "role": role, "roles": Role.choices},
    )


@login_required
def official_detail(request: HttpRequest, pk: int) -> HttpResponse:
    official = _get_or_404(User.objects.select_related("agency", "department"), request.user, pk)
    context = {"official": official, "audit": selectors.audit_for_object(official)[:100]}
    return render(request, "core/official_detail.html", context)


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    records = selectors.audit_list(request.user, action=action, actor=actor)
    return render(
        request,
        "core/audit_list.html",
        {"page": _page(request, records), "action": action, "actor": actor},
    )


def _parse_local_datetime(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@login_required
def calendar_view(request: HttpRequest) -> HttpResponse:
    try:
        province = selectors.province_by_code()
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    calendar = selectors.working_calendar_for(province)
    result: dict[str, Any] = {}
    start_raw = request.GET.get("start", "")
    days_raw = request.GET.get("days", "")
    if start_raw and days_raw:
        try:
            start = _parse_local_datetime(start_raw)
            due = calendar.due(start, int(days_raw))
            result = {"start": timezone.localtime(start), "due": timezone.localtime(due)}
        except ValueError:
            result = {"error": _("Enter a valid date and time and a whole number of days.")}
    can_edit = request.user.is_superuser or request.user.has_role(Role.ADMINISTRATOR)
    context = {
        "province": province,
        "office_hours": calendar.office_hours.format().replace(",", ", "),
        "overrides": province.calendar_overrides.order_by("-date"),
        "kinds": OverrideKind.choices,
        "result": result,
        "start": start_raw,
        "days": days_raw,
        "can_edit": can_edit,
        "audit": selectors.audit_for_object(province).filter(action__startswith="calendar")[:50],
    }
    template = "core/_due_result.html" if request.htmx else "core/calendar.html"
    return render(request, template, context)


@login_required
@require_POST
def calendar_override_add(request: HttpRequest) -> HttpResponse:
    try:
        province = selectors.province_by_code()
        day = date.fromisoformat(request.POST.get("date", ""))
        services.calendar_override_add(
            actor=request.user,
            province=province,
            day=day,
            kind=request.POST.get("kind", ""),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("Override saved for %(day)s.") % {"day": day.isoformat()})
    except ValueError:
        messages.error(request, _("Enter a valid date (YYYY-MM-DD)."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("core:calendar")


@login_required
@require_POST
def calendar_override_remove(request: HttpRequest, day: str) -> HttpResponse:
    try:
        services.calendar_override_remove(
            actor=request.user,
            province=selectors.province_by_code(),
            day=date.fromisoformat(day),
        )
        messages.success(request, _("Override removed."))
    except ValueError:
        messages.error(request, _("Enter a valid date (YYYY-MM-DD)."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("core:calendar")
