"""What the operations centre keeps: daily rollups of the dossier events (additive counters
that the indicators sum instead of scanning the dossier table), the national service index
as configuration rows (groups and indicators with points, thresholds and a formula key), and
the province's yearly targets per indicator."""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tinhso.catalog.models import Procedure
from tinhso.core.models import AdministrativeUnit, Agency, User
from tinhso.core.scoping import ScopedQuerySet, ScopeFields

#: The counters of a rollup row, in the order of the table's columns. Each is a pure sum over
#: dossier events (see `tinhso.ioc.rollups.event_delta` and docs/indicators.md).
COUNTERS: tuple[str, ...] = (
    "submitted",
    "received",
    "refused",
    "done",
    "done_early",
    "done_on_time",
    "done_late",
    "done_approved",
    "done_rejected",
    "processing_seconds",
    "withdrawn",
    "withdrawn_received",
    "withdrawn_on_time",
    "ended_with_supplement",
    "inputs_digitised",
    "result_digitised",
    "fully_digitised",
    "reused",
    "data_store",
)

#: The grain of a rollup row; department and official are 0 when the counter is not
#: attributed to one (a NULL would defeat the unique constraint the upsert relies on).
GRAIN: tuple[str, ...] = (
    "day",
    "agency_id",
    "department_ref",
    "official_ref",
    "procedure_id",
    "channel",
)


class DailyRollup(models.Model):
    """Counters of one day, receiving agency, handling department, handling official,
    procedure and channel. Updated in the transaction of each dossier event by an upsert
    that adds the event's delta; `tinhso ioc rebuild` recomputes the same rows from the
    event log."""

    day = models.DateField()
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    department_ref = models.PositiveIntegerField(default=0)
    official_ref = models.PositiveIntegerField(default=0)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10)

    submitted = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    done_early = models.PositiveIntegerField(default=0)
    done_on_time = models.PositiveIntegerField(default=0)
    done_late = models.PositiveIntegerField(default=0)
    done_approved = models.PositiveIntegerField(default=0)
    done_rejected = models.PositiveIntegerField(default=0)
    processing_seconds = models.PositiveBigIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    withdrawn_received = models.PositiveIntegerField(default=0)
    withdrawn_on_time = models.PositiveIntegerField(default=0)
    ended_with_supplement = models.PositiveIntegerField(default=0)
    inputs_digitised = models.PositiveIntegerField(default=0)
    result_digitised = models.PositiveIntegerField(default=0)
    fully_digitised = models.PositiveIntegerField(default=0)
    reused = models.PositiveIntegerField(default=0)
    data_store = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        ordering = ["day", "agency", "procedure"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "day",
                    "agency",
                    "department_ref",
                    "official_ref",
                    "procedure",
                    "channel",
                ],
                name="ioc_daily_rollup_grain",
            )
        ]
        indexes = [
            models.Index(fields=["agency", "day"]),
            models.Index(fields=["department_ref", "day"]),
            models.Index(fields=["official_ref", "day"]),
            models.Index(fields=["procedure", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.agency_id}/{self.procedure_id}/{self.channel}"


# --- the national service index ----------------------------------------------------------------


class ServiceIndex(models.Model):
    """A service index: the national one of Quyết định 766/QĐ-TTg, or a province's variant
    (e.g. Quảng Nam's 892/QĐ-UBND), each a set of groups and indicators."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=255)
    source = models.TextField(_("source"), blank=True, help_text=_("The decision it follows."))
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("service index")
        verbose_name_plural = _("service indexes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class IndexGroup(models.Model):
    """A group of the index (publicity and transparency 18 points, …)."""

    index = models.ForeignKey(ServiceIndex, on_delete=models.CASCADE, related_name="groups")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=255)
    max_points = models.DecimalField(_("maximum points"), max_digits=6, decimal_places=2)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("index group")
        verbose_name_plural = _("index groups")
        ordering = ["index", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["index", "code"], name="ioc_index_group_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.name}"


class IndexIndicator(models.Model):
    """One indicator row of the index: points, threshold and the formula (a key of
    `tinhso.ioc.indicators.REGISTRY`) that computes its rate from the operational data.
    Editing a row changes the scoring without code changes."""

    group = models.ForeignKey(IndexGroup, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=500)
    points = models.DecimalField(
        _("points"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    threshold = models.DecimalField(
        _("threshold (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Rate at or above which the full points are given; empty: rate × points."),
    )
    formula = models.CharField(
        _("formula"),
        max_length=60,
        help_text=_("The code of the indicator that computes the rate (see the definitions)."),
    )
    rule = models.TextField(_("rule"), blank=True, help_text=_("The decision's own wording."))
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("index indicator")
        verbose_name_plural = _("index indicators")
        ordering = ["group__index", "group__position", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["group", "code"], name="ioc_index_indicator_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        from tinhso.ioc.formulas import Unit
        from tinhso.ioc.indicators import REGISTRY

        indicator = REGISTRY.get(self.formula)
        if indicator is None:
            raise ValidationError({"formula": _("Unknown formula.")})
        if self.points and indicator.unit != Unit.PERCENT and indicator.held:
            raise ValidationError(
                {"formula": _("An indicator that scores points needs a formula giving a rate.")}
            )


# --- targets -----------------------------------------------------------------------------------


class Target(models.Model):
    """The province's target for one indicator in one year (e.g. 80 % of procedures fully
    online in 2026), from its digital-transformation plan."""

    province = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("province")
    )
    indicator = models.CharField(_("indicator"), max_length=60)
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    value = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    note = models.CharField(
        _("source"), max_length=500, blank=True, help_text=_("The plan or decision it comes from.")
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(unit_path="province__path")

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["province", "-year", "indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "indicator", "year"], name="ioc_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}: {self.value}"
