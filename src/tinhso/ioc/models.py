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
from django.utils.translation import pgettext_lazy

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


class RollupCounters(models.Model):
    """The counters (`COUNTERS`) both rollup tables carry, each a pure sum of event deltas."""

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
        abstract = True


class DailyRollup(RollupCounters):
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

    class Meta(RollupCounters.Meta):
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


#: The grain of the agency rollup: a `DailyRollup` grain without department, official and
#: procedure (about 80 times fewer rows), for sums that need none of those.
AGENCY_GRAIN: tuple[str, ...] = ("day", "agency_id", "channel")


class AgencyDailyRollup(RollupCounters):
    """The counters of `DailyRollup` summed by day, receiving agency and channel: each row
    equals the sum of the `DailyRollup` rows with its day, agency and channel. Kept by the
    same in-transaction upsert (one more row per counted event, same delta) and recomputed
    from `DailyRollup` by `tinhso ioc rebuild`; read by the flows of the province, units and
    agencies (12 months of a province: about 29,000 rows instead of 2.3 million at
    2 million dossiers a year)."""

    day = models.DateField()
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10)

    class Meta(RollupCounters.Meta):
        verbose_name = _("agency daily rollup")
        verbose_name_plural = _("agency daily rollups")
        ordering = ["day", "agency", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "agency", "channel"], name="ioc_agency_daily_rollup_grain"
            )
        ]
        indexes = [models.Index(fields=["agency", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.agency_id}/{self.channel}"


# --- the national service index ----------------------------------------------------------------


class OpenSnapshot(models.Model):
    """The open dossiers of one agency as the worker last counted them (`ioc.snapshots`,
    every 30 seconds): the point-in-time figures of the dashboards, read in one row per
    agency instead of counting and classifying the open dossiers on every page."""

    agency = models.OneToOneField(
        Agency, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    taken_at = models.DateTimeField()
    open = models.PositiveIntegerField(default=0)
    not_received = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    paused = models.PositiveIntegerField(default=0)
    due_soon = models.PositiveIntegerField(default=0)
    #: Received and neither processed nor ended (open "at the end" of a running period), and
    #: how many of them count late.
    unprocessed = models.PositiveIntegerField(default=0)
    unprocessed_late = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("open dossiers snapshot")
        verbose_name_plural = _("open dossiers snapshots")

    def __str__(self) -> str:
        return f"{self.agency_id} @ {self.taken_at:%Y-%m-%d %H:%M:%S}"


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


# --- alerts ------------------------------------------------------------------------------------

# Imported here so that the alerts could be appended without touching the lines above.
from tinhso.core.models import AppendOnlyModel, AppendOnlyQuerySet  # noqa: E402


class AlertComparison(models.TextChoices):
    LT = "lt", _("below")
    LE = "le", _("at or below")
    GT = "gt", _("above")
    GE = "ge", _("at or above")


class AlertSeverity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", pgettext_lazy("alert severity", "Warning")
    CRITICAL = "critical", _("Critical")


class AlertState(models.TextChoices):
    OPEN = "open", pgettext_lazy("alert state", "Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class AlertAction(models.TextChoices):
    RAISED = "raised", _("Raised")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    RECOVERED = "recovered", _("Recovered")


class AlertRule(models.Model):
    """A threshold on an indicator ("on-time rate of agency X over 30 days below 95 %").

    The scope is a kind and an id; no id on an agency or a unit means every agency (every
    commune) of the province, each evaluated and alerted on its own. No id on a province
    means the platform's province. `use_target` compares with the province's target for the
    indicator in the current year instead of `threshold` (no target: no alert). A window of
    0 days reads the indicator at the moment of evaluation (overdue, due soon)."""

    name = models.CharField(_("name"), max_length=200)
    indicator = models.CharField(_("indicator"), max_length=60)
    scope_kind = models.CharField(_("scope"), max_length=12, default="province")
    scope_id = models.PositiveIntegerField(
        _("scope id"), null=True, blank=True, help_text=_("Empty: each agency or commune.")
    )
    comparison = models.CharField(
        _("comparison"), max_length=2, choices=AlertComparison.choices, default=AlertComparison.LT
    )
    threshold = models.DecimalField(
        _("threshold"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    use_target = models.BooleanField(_("compare with the province's target"), default=False)
    window_days = models.PositiveSmallIntegerField(
        _("window (days)"),
        default=30,
        validators=[MaxValueValidator(366)],
        help_text=_("0: the value at the moment of evaluation."),
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=AlertSeverity.choices, default=AlertSeverity.WARNING
    )
    recipients = models.ManyToManyField(
        User, blank=True, related_name="+", verbose_name=_("officials notified")
    )
    emails = models.TextField(_("other e-mail addresses"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(use_target=True) | models.Q(threshold__isnull=False),
                name="ioc_alert_rule_has_threshold",
            ),
            models.CheckConstraint(
                condition=models.Q(comparison__in=["lt", "le", "gt", "ge"]),
                name="ioc_alert_rule_comparison",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def fans_out(self) -> bool:
        return self.scope_id is None and self.scope_kind in ("agency", "unit")


class Alert(models.Model):
    """One breach of a rule at one scope: open → acknowledged → resolved. At most one alert
    per rule and scope is not resolved (a database constraint), so a breach that lasts
    raises one alert however many evaluations see it."""

    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    scope_kind = models.CharField(_("scope"), max_length=12)
    scope_id = models.PositiveIntegerField(_("scope id"))
    scope_label = models.CharField(_("scope name"), max_length=255)
    #: Where the alert hangs on the tree (for `restrict`): the scope's agency, if any, and
    #: the unit path of the scope (the province's for a province, a field or a procedure).
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit_path = models.CharField(max_length=255, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=AlertState.choices, default=AlertState.OPEN
    )
    value = models.DecimalField(_("value at breach"), max_digits=14, decimal_places=2)
    threshold = models.DecimalField(_("threshold"), max_digits=12, decimal_places=2)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    #: None with a `resolved_at`: the system saw the indicator recover.
    resolved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_value = models.DecimalField(_("last value"), max_digits=14, decimal_places=2)
    last_evaluated_at = models.DateTimeField(_("last evaluated at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(unit_path="unit_path", agency="agency")

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "scope_kind", "scope_id"],
                condition=~models.Q(state="resolved"),
                name="ioc_alert_one_unresolved_per_scope",
            )
        ]
        indexes = [models.Index(fields=["state", "raised_at"])]

    def __str__(self) -> str:
        return f"{self.rule.name} · {self.scope_label}"


class AlertEvent(AppendOnlyModel):
    """The alert's trail, append-only: raised, acknowledged, resolved (by a person) or
    recovered (by the system), with the value seen and the note given."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=15, choices=AlertAction.choices)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.TextField(blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")
        ordering = ["alert", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.action}"
