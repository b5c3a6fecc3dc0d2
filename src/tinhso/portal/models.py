"""What the citizens' portal keeps of its own: drafts of online submissions (saved as the
citizen types, resumable) and satisfaction ratings of finished dossiers."""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tinhso.catalog.models import DocumentRequirement, Procedure
from tinhso.core.models import User
from tinhso.core.scoping import ScopedQuerySet, ScopeFields
from tinhso.dossiers.models import Dossier, DossierDocument


class Draft(models.Model):
    """An online submission being filled in; becomes a dossier when submitted."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="drafts")
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_dossier = models.ForeignKey(
        Dossier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(owner="owner")

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.owner} – {self.procedure.code}"


class DraftDocument(models.Model):
    """A document attached to a draft: a new upload, or one reused from the citizen's
    personal data store (an earlier dossier's verified document or result)."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="documents")
    requirement = models.ForeignKey(
        DocumentRequirement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="drafts/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    reused_from = models.ForeignKey(
        DossierDocument, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["draft", "pk"]

    def __str__(self) -> str:
        return self.original_name or str(self.requirement)


class SatisfactionRating(models.Model):
    """The applicant's rating of a finished dossier, once, on the national portal's criteria
    (each 1–5)."""

    dossier = models.OneToOneField(Dossier, on_delete=models.PROTECT, related_name="rating")
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    scores = models.JSONField(_("scores"), default=dict)
    overall = models.PositiveSmallIntegerField(
        _("overall"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_fields: ClassVar[ScopeFields] = ScopeFields(
        unit_path="dossier__unit_path", agency="dossier__agency", owner="owner"
    )

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.dossier} {self.overall}/5"
