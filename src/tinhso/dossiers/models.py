"""Dossiers (hồ sơ) of the one-stop electronic system: the applicant's request for one
procedure at one agency, its documents, its deadline clock, its step in the workflow, and
its append-only history of events."""

from __future__ import annotations

from typing import ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tinhso.catalog.models import DocumentRequirement, Procedure, ProcedureBundle, WorkflowStep
from tinhso.core.models import Agency, AppendOnlyModel, AppendOnlyQuerySet, Department, User
from tinhso.core.scoping import ScopedQuerySet, ScopeFields
from tinhso.dossiers.states import OPEN_STATUSES, Channel, Outcome, Status, Timeliness


class ApplicantKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    BUSINESS = "business", _("Business or organisation")


class ReturnMethod(models.TextChoices):
    DESK = "desk", _("At the desk")
    POST = "post", _("By post")
    ONLINE = "online", _("Online")


class Bundle(models.Model):
    """One submission of bundled procedures (liên thông): done when every dossier is."""

    procedure_bundle = models.ForeignKey(
        ProcedureBundle, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bundled submission")
        verbose_name_plural = _("bundled submissions")

    def __str__(self) -> str:
        return f"{self.procedure_bundle} #{self.pk}"


class Dossier(models.Model):
    code = models.CharField(_("dossier code"), max_length=60, unique=True)
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("procedure")
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("receiving agency"),
    )
    # While transferred (liên thông) the dossier is also visible to the agency holding it.
    transfer_agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transferred_dossiers",
        verbose_name=_("transferred to"),
    )
    unit_path = models.CharField(max_length=255, db_index=True, editable=False)
    bundle = models.ForeignKey(
        Bundle, null=True, blank=True, on_delete=models.PROTECT, related_name="dossiers"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=25, choices=Status.choices)
    resume_status = models.CharField(max_length=25, choices=Status.choices, blank=True)
    version = models.PositiveIntegerField(default=1)

    applicant_kind = models.CharField(
        _("applicant type"),
        max_length=10,
        choices=ApplicantKind.choices,
        default=ApplicantKind.CITIZEN,
    )
    applicant_name = models.CharField(_("applicant"), max_length=255)
    applicant_id_number = models.CharField(
        _("identification number / tax code"), max_length=14, db_index=True
    )
    applicant_phone = models.CharField(_("phone"), max_length=20, blank=True)
    applicant_email = models.EmailField(_("email"), blank=True)
    applicant_address = models.CharField(_("address"), max_length=500, blank=True)
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="dossiers"
    )
    note = models.TextField(_("note"), blank=True)

    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True, db_index=True)
    # The deadline clock: a budget of working seconds consumed while the clock runs.
    budget_seconds = models.PositiveIntegerField(default=0)
    consumed_seconds = models.PositiveIntegerField(default=0)
    clock_running = models.BooleanField(default=False)
    clock_resumed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("appointment"), null=True, blank=True, db_index=True)
    original_due_at = models.DateTimeField(_("first appointment"), null=True, blank=True)
    apology_count = models.PositiveSmallIntegerField(default=0)
    supplement_count = models.PositiveSmallIntegerField(default=0)
    supplement_seconds = models.PositiveIntegerField(default=0)

    current_step = models.ForeignKey(
        WorkflowStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    step_due_at = models.DateTimeField(_("step deadline"), null=True, blank=True)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dossiers",
        verbose_name=_("department"),
    )
    assignee = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_dossiers",
        verbose_name=_("assigned to"),
    )

    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    result_summary = models.TextField(_("result"), blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True, db_index=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_method = models.CharField(
        _("returned"), max_length=10, choices=ReturnMethod.choices, blank=True
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, db_index=True)
    timeliness = models.CharField(
        _("timeliness"), max_length=10, choices=Timeliness.choices, blank=True
    )
    # Kept for the operations centre's counts, so they need no look-up per dossier: when the
    # national portal accepted the dossier ("dossier.created" delivered), and whether the
    # applicant's identity was checked against the national population database (the owner
    # signed in with e-ID, or an official's look-up for this dossier found the person).
    portal_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Whether the last transition sent the dossier back to a step (a send-back, or the return
    # from a transfer): the "returned" inbox, counted without reading the events.
    sent_back = models.BooleanField(default=False, db_default=False, editable=False)
    identity_verified = models.BooleanField(default=False, db_default=False, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(
        unit_path=("unit_path", "transfer_agency__unit__path"),
        agency=("agency", "transfer_agency"),
        owner="owner",
    )

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["agency", "status", "due_at"]),
            models.Index(fields=["assignee", "status"]),
            # The operations centre's point-in-time counts read only the dossiers still open,
            # a few percent of the table that does not grow with the years of history: these
            # partial indexes hold just them, with the clock's columns (PostgreSQL reads the
            # counts from the index alone; SQLite ignores `include`).
            models.Index(
                fields=["agency", "due_at"],
                include=[
                    "id",
                    "received_at",
                    "clock_running",
                    "budget_seconds",
                    "consumed_seconds",
                ],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="dossier_open_by_agency",
            ),
            models.Index(
                fields=["agency", "received_at"],
                include=[
                    "id",
                    "clock_running",
                    "due_at",
                    "budget_seconds",
                    "consumed_seconds",
                    "apology_count",
                    "supplement_count",
                ],
                condition=Q(processed_at__isnull=True, ended_at__isnull=True),
                name="dossier_unprocessed_by_agency",
            ),
            # The received-in-the-period counts with their synchronised / verified shares.
            models.Index(
                fields=["agency", "received_at"],
                include=["id", "portal_synced_at", "identity_verified"],
                name="dossier_received_by_agency",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        from tinhso.dossiers.states import OPEN_STATUSES

        return self.status in OPEN_STATUSES


class DocumentKind(models.TextChoices):
    INPUT = "input", _("Submitted document")
    RESULT = "result", _("Result")
    SLIP = "slip", _("Slip")


class DossierDocument(models.Model):
    """A document of the dossier: a submitted component, a result, or an issued slip.
    A stored file is digitised; its hash lets a citizen reuse it later."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    requirement = models.ForeignKey(
        DocumentRequirement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("document"), max_length=500)
    file = models.FileField(upload_to="dossiers/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    is_digitised = models.BooleanField(_("digitised"), default=False)
    is_reused = models.BooleanField(_("reused"), default=False)
    # The earlier document this one reuses (from the applicant's personal data store).
    reused_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reuses"
    )
    verified_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("dossier document")
        verbose_name_plural = _("dossier documents")
        ordering = ["dossier", "kind", "pk"]

    def __str__(self) -> str:
        return self.name


class StepVisit(models.Model):
    """One stay of a dossier at a workflow step: when it came, its step deadline, who held
    it and when it left. Step-level on-time figures come from here."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="step_visits")
    step = models.ForeignKey(WorkflowStep, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dossier", "entered_at", "pk"]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.step_id} from {self.entered_at:%Y-%m-%d %H:%M}"


class DossierEvent(AppendOnlyModel):
    """The dossier's history, append-only: who did what, when, from which status to which.
    It is the dossier's audit trail and the source the operations centre rebuilds from."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=25, blank=True)
    to_status = models.CharField(max_length=25)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("dossier event")
        verbose_name_plural = _("dossier events")
        ordering = ["dossier", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "seq"], name="dossier_event_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}#{self.seq} {self.action}"


class DossierCodeCounter(models.Model):
    """The last sequence number given per agency and day (codes are gap-free)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "day"], name="dossier_code_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.day}: {self.last}"
