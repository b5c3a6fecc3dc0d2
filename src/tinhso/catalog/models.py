"""The catalog of administrative procedures (CSDL thủ tục hành chính): what a citizen can
ask for, which agencies handle it, how long it may take, what it costs, which documents it
needs, and the workflow the dossier follows inside the agency."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tinhso.core.models import Agency, AgencyKind, Role


class Field(models.Model):
    """A field of administration (lĩnh vực), e.g. Hộ tịch, Đất đai."""

    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=255)

    class Meta:
        verbose_name = _("field")
        verbose_name_plural = _("fields")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImplementingLevel(models.TextChoices):
    PROVINCE = "province", _("Provincial level")
    COMMUNE = "commune", _("Commune level")
    BOTH = "both", _("Provincial and commune level")


class OnlineAvailability(models.TextChoices):
    FULL = "full", _("Fully online")
    PARTIAL = "partial", _("Partially online")
    NONE = "none", _("Not online")


class Procedure(models.Model):
    """An administrative procedure (thủ tục hành chính, TTHC) as published in the national
    database, e.g. `1.001193` Đăng ký khai sinh."""

    code = models.CharField(_("procedure code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=500)
    field = models.ForeignKey(
        Field, on_delete=models.PROTECT, related_name="procedures", verbose_name=_("field")
    )
    level = models.CharField(
        _("implementing level"), max_length=10, choices=ImplementingLevel.choices
    )
    agency_kinds = models.JSONField(
        _("implementing agency kinds"),
        default=list,
        blank=True,
        help_text=_("Kinds of agency that implement it, e.g. commune_committee."),
    )
    agencies = models.ManyToManyField(
        Agency, blank=True, related_name="procedures", verbose_name=_("implementing agencies")
    )
    processing_days = models.DecimalField(
        _("processing time (working days)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)
    result_type = models.CharField(_("result"), max_length=500, blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    online = models.CharField(
        _("online availability"),
        max_length=10,
        choices=OnlineAvailability.choices,
        default=OnlineAvailability.NONE,
    )
    is_essential = models.BooleanField(_("essential service (Đề án 06)"), default=False)
    is_active = models.BooleanField(_("in force"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def has_fees(self) -> bool:
        return any(case.amount > 0 for case in self.fee_cases.all())


class FeeCase(models.Model):
    """One case of the fee or charge (lệ phí, phí) of a procedure, in whole đồng."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="fee_cases")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(_("case"), max_length=500)
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    legal_basis = models.CharField(_("legal basis"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("fee case")
        verbose_name_plural = _("fee cases")
        ordering = ["procedure", "position"]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount:,} đ"


class DocumentRequirement(models.Model):
    """A document the applicant must provide (thành phần hồ sơ)."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="documents")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("document"), max_length=500)
    originals = models.PositiveSmallIntegerField(_("originals"), default=1)
    copies = models.PositiveSmallIntegerField(_("copies"), default=0)
    is_required = models.BooleanField(_("required"), default=True)
    form_template = models.CharField(
        _("form template"), max_length=255, blank=True, help_text=_("Name or link of the form")
    )

    class Meta:
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")
        ordering = ["procedure", "position"]

    def __str__(self) -> str:
        return self.name


class WorkflowStep(models.Model):
    """One step of the processing workflow, with its share of the processing time."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="workflow_steps"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("step"), max_length=255)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    department_code = models.CharField(
        _("department code"),
        max_length=30,
        blank=True,
        help_text=_("Code of the department that handles the step inside the agency."),
    )
    share_percent = models.DecimalField(
        _("share of the processing time (%)"), max_digits=5, decimal_places=2
    )

    class Meta:
        verbose_name = _("workflow step")
        verbose_name_plural = _("workflow steps")
        ordering = ["procedure", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "position"], name="workflow_step_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class ProcedureBundle(models.Model):
    """Bundled procedures (liên thông): one submission, several dossiers at several agencies."""

    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=500)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("procedure bundle")
        verbose_name_plural = _("procedure bundles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BundlePart(models.Model):
    bundle = models.ForeignKey(ProcedureBundle, on_delete=models.CASCADE, related_name="parts")
    position = models.PositiveSmallIntegerField(default=0)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    agency_kind = models.CharField(
        _("agency kind"),
        max_length=30,
        choices=AgencyKind.choices,
        help_text=_(
            "Which kind of agency handles this part (the applicant's commune for a "
            "commune committee)."
        ),
    )

    class Meta:
        ordering = ["bundle", "position"]

    def __str__(self) -> str:
        return f"{self.bundle}: {self.procedure}"
