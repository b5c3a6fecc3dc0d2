"""GovStack identifiers: the Registration building block names services, eForms, application
files, tasks and operators by its own strings (UUIDs in practice). We keep our own objects
(procedures, dossiers, step visits, officials) and bind a foreign identifier to them here;
an object without a binding is named by its native key (see `tinhso.govstack.mapping`)."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tinhso.catalog.models import Procedure
from tinhso.core.models import User
from tinhso.dossiers.models import Dossier, StepVisit


class Kind(models.TextChoices):
    SERVICE = "service", _("Service (procedure)")
    EFORM = "eform", _("eForm (application form of a procedure)")
    FILE = "file", _("Application file (dossier)")
    TASK = "task", _("Task (workflow step waiting for an operator)")
    OPERATOR = "operator", _("Operator (official)")
    DOCUMENT = "document", _("Uploaded document")


class GovStackId(models.Model):
    """One foreign identifier bound to one of our objects. `data` keeps what the building
    block says about the object and we have no column for (a service's version and body, an
    eForm's name and JSON Schema, an application's applicantId and form data, an uploaded
    document's stored file)."""

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=100)
    procedure = models.ForeignKey(
        Procedure, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    dossier = models.ForeignKey(
        Dossier, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    step_visit = models.ForeignKey(
        StepVisit, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    official = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("GovStack identifier")
        verbose_name_plural = _("GovStack identifiers")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="govstack_id_kind_value_unique")
        ]
        indexes = [
            models.Index(fields=["kind", "dossier"]),
            models.Index(fields=["kind", "procedure"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
