"""Shared registers: administrative units, agencies and their departments, officials and their
roles, the per-province working calendar, and the append-only audit trail."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tinhso.core.errors import ImmutableRecord
from tinhso.core.scoping import ScopedQuerySet, ScopeFields


class UnitLevel(models.TextChoices):
    PROVINCE = "province", _("Province / centrally-run city")
    DISTRICT = "district", _("District (before 1 July 2025)")
    COMMUNE = "commune", _("Commune / ward / special zone")


class AdministrativeUnit(models.Model):
    """A node of the administrative tree (đơn vị hành chính), of any depth.

    Current units come from `vietnam-provinces` (two levels since 1 July 2025); units that no
    longer exist keep their rows with `valid_until` set, so three-level history stays readable.
    `path` holds the primary keys from the root (`/12/345/`) so a subtree is one prefix match.
    """

    code = models.CharField(_("official code"), max_length=10, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    division_type = models.CharField(_("division type"), max_length=50, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=UnitLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    successors = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="predecessors",
        help_text=_("Units that took over this one when it was merged or dissolved."),
    )

    objects = ScopedQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(unit_path="path")

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "level"],
                condition=Q(valid_until__isnull=True),
                name="unit_current_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_current(self) -> bool:
        return self.valid_until is None

    def province(self) -> AdministrativeUnit:
        """The root of this unit's tree (the province it belongs to)."""
        root_pk = int(self.path.strip("/").split("/")[0])
        return self if root_pk == self.pk else AdministrativeUnit.objects.get(pk=root_pk)


class AgencyKind(models.TextChoices):
    PROVINCIAL_COMMITTEE = "provincial_committee", _("Provincial People's Committee")
    PROVINCIAL_DEPARTMENT = "provincial_department", _("Provincial department or equivalent")
    PUBLIC_SERVICE_CENTRE = "public_service_centre", _("Public administration service centre")
    POLICE = "police", _("Police")
    SOCIAL_INSURANCE = "social_insurance", _("Social insurance")
    COMMUNE_COMMITTEE = "commune_committee", _("Commune People's Committee")
    OTHER = "other", _("Other")


class Agency(models.Model):
    """An agency (cơ quan, đơn vị) with its electronic identifier code (QĐ 20/2020/QĐ-TTg)."""

    code = models.CharField(_("electronic identifier code"), max_length=35, unique=True)
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=AgencyKind.choices)
    unit = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="agencies",
        verbose_name=_("administrative unit"),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subordinates",
        verbose_name=_("superior agency"),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(unit_path="unit__path", agency="pk")

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A department (phòng, bộ phận) inside an agency."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="departments")
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=255)
    is_one_stop_desk = models.BooleanField(_("one-stop desk"), default=False)

    objects = ScopedQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(
        unit_path="agency__unit__path", agency="agency"
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["agency", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="department_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} – {self.agency.short_name or self.agency.name}"


class Role(models.TextChoices):
    DESK_OFFICER = "desk_officer", _("One-stop desk officer")
    SPECIALIST = "specialist", _("Specialist")
    DEPARTMENT_LEADER = "department_leader", _("Department leader")
    AGENCY_LEADER = "agency_leader", _("Agency leader")
    PROVINCIAL_LEADER = "provincial_leader", _("Provincial leader")
    ADMINISTRATOR = "administrator", _("Administrator")


#: Roles whose scope is the whole province rather than their own agency.
PROVINCE_WIDE_ROLES = frozenset({Role.PROVINCIAL_LEADER, Role.ADMINISTRATOR})


class UserKind(models.TextChoices):
    OFFICIAL = "official", _("Official")
    CITIZEN = "citizen", _("Citizen")
    BUSINESS = "business", _("Business")


class OfficialManager(UserManager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    """The user manager, with `restrict(user)` on its querysets."""


class User(AbstractUser):
    """Anyone who signs in: an official of an agency, or a citizen or business (portal)."""

    kind = models.CharField(
        _("kind"), max_length=10, choices=UserKind.choices, default=UserKind.OFFICIAL
    )
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    position = models.CharField(_("position"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="officials",
        verbose_name=_("agency"),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="officials",
        verbose_name=_("department"),
    )
    personal_id = models.CharField(
        _("personal identification number"), max_length=12, null=True, blank=True, unique=True
    )
    tax_code = models.CharField(_("tax code"), max_length=14, null=True, blank=True, unique=True)

    objects = OfficialManager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(
        unit_path="agency__unit__path", agency="agency", owner="pk"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name", "username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def role_set(self) -> frozenset[str]:
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            cached = (
                frozenset(self.roles.values_list("role", flat=True)) if self.pk else frozenset()
            )
            self._role_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in Role.values if r in self.role_set]


class RoleAssignment(models.Model):
    """One role held by an official; an official may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_role_display()}"


class ProvinceCalendar(models.Model):
    """A province's office hours (the periods of a working day)."""

    province = models.OneToOneField(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="calendar"
    )
    office_hours = models.CharField(
        _("office hours"),
        max_length=100,
        default="07:30-11:30,13:00-17:00",
        help_text=_("Periods of a working day, e.g. 07:30-11:30,13:00-17:00"),
    )

    class Meta:
        verbose_name = _("province calendar")
        verbose_name_plural = _("province calendars")

    def __str__(self) -> str:
        return f"{self.province}: {self.office_hours}"


class OverrideKind(models.TextChoices):
    WORKDAY = "workday", _("Working day (make-up day)")
    DAYOFF = "dayoff", _("Day off")


class CalendarOverride(models.Model):
    """A province's exception to the national calendar for one date."""

    province = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="calendar_overrides"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=OverrideKind.choices)
    reason = models.CharField(_("reason"), max_length=255)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["province", "date"], name="calendar_override_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.get_kind_display()} ({self.reason})"


class AppendOnlyQuerySet(ScopedQuerySet):
    """Rows of append-only tables (the audit trail, dossier events, the personal-data access
    log) are never changed or deleted: bulk paths are refused here, single rows by
    `AppendOnlyModel`, and the database refuses UPDATE (and DELETE on PostgreSQL) by triggers
    (`tinhso.core.append_only`)."""

    def update(self, **kwargs: Any) -> int:
        raise ImmutableRecord()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableRecord()

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise ImmutableRecord()

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableRecord()


class AppendOnlyModel(models.Model):
    """A model whose rows are inserted once and never changed or deleted."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or kwargs.get("force_update"):
            raise ImmutableRecord()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecord()


class AuditRecord(AppendOnlyModel):
    """Who did what to which object, when, from which state to which (append-only)."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("object"), max_length=255)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)
    # Denormalised scope so the trail can be listed under the same rules as its objects.
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit_path = models.CharField(max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=20, default="web")

    objects = AppendOnlyQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(unit_path="unit_path", agency="agency")

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class ScheduledRun(models.Model):
    """One run of a periodic job (`tinhso.core.schedule`): the unique (job, slot) pair is the
    claim that keeps two workers from running the same period twice."""

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()
    started_at = models.DateTimeField(default=timezone.now)
    failed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-slot"]
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="scheduled_run_unique")]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M}"
