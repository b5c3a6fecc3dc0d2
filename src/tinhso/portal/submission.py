"""Online submission from the portal: a draft saved as the citizen fills it in (applicant
data, the chosen agency, uploaded or reused documents), then submitted as a dossier through
`tinhso.dossiers.services`. Also the citizen's personal data store: their verified documents
and results from earlier dossiers, which can be reused instead of uploading again."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tinhso.catalog.models import (
    DocumentRequirement,
    ImplementingLevel,
    OnlineAvailability,
    Procedure,
    ProcedureBundle,
)
from tinhso.core.errors import NotFound, OutOfScope, ValidationFailed
from tinhso.core.models import Agency, AgencyKind, User, UserKind
from tinhso.dossiers import services
from tinhso.dossiers.models import ApplicantKind, DocumentKind, Dossier, DossierDocument
from tinhso.dossiers.services import Applicant, SubmittedDocument
from tinhso.dossiers.states import Channel
from tinhso.dossiers.uploads import upload_error
from tinhso.portal.models import Draft, DraftDocument
from tinhso.portal.selectors import is_citizen

#: The applicant fields a citizen may edit; name and identification come from the identity.
EDITABLE_FIELDS = ("phone", "email", "address")
#: What a draft's `data` keeps: the editable fields and the chosen agency.
DATA_KEYS = (*EDITABLE_FIELDS, "agency")
MAX_VALUE_LENGTH = 255


@dataclass
class DraftSaved:
    """The saved draft, and an error message per requirement id whose upload was refused."""

    draft: Draft
    errors: dict[int, str] = field(default_factory=dict)


# --- reads ----------------------------------------------------------------------------------


def personal_documents(user: Any) -> QuerySet[DossierDocument]:
    """The citizen's personal data store: digitised documents and results, with a stored
    file, of the dossiers they own (reuses are not listed twice); none for anyone else."""
    qs = DossierDocument.objects.select_related("dossier", "dossier__procedure").order_by(
        "-created_at", "-pk"
    )
    if not is_citizen(user):
        return qs.none()
    return (
        qs.filter(
            dossier__owner=user,
            kind__in=[DocumentKind.INPUT, DocumentKind.RESULT],
            is_digitised=True,
            reused_from__isnull=True,
        )
        .exclude(file="")
        .exclude(file__isnull=True)
    )


def is_submittable(procedure: Procedure) -> bool:
    return procedure.is_active and procedure.online != OnlineAvailability.NONE


def receiving_agencies(procedure: Procedure) -> list[Agency]:
    """Where the citizen may send the dossier: the communes' people's committees for a
    commune-level procedure, otherwise the procedure's implementing agencies."""
    active = Agency.objects.filter(is_active=True).order_by("name")
    if procedure.level == ImplementingLevel.COMMUNE:
        return list(active.filter(kind=AgencyKind.COMMUNE_COMMITTEE))
    agencies = list(active.filter(pk__in=procedure.agencies.values("pk")))
    if not agencies and procedure.agency_kinds:
        agencies = list(active.filter(kind__in=procedure.agency_kinds))
    return agencies


def commune_agencies() -> list[Agency]:
    return list(
        Agency.objects.filter(is_active=True, kind=AgencyKind.COMMUNE_COMMITTEE).order_by("name")
    )


def my_draft(user: Any, draft_id: int) -> Draft:
    """The citizen's own open draft; NotFound for anyone else's or a submitted one."""
    if not is_citizen(user):
        raise NotFound()
    draft = (
        Draft.objects.select_related("procedure")
        .filter(pk=draft_id, owner=user, submitted_dossier__isnull=True)
        .first()
    )
    if draft is None:
        raise NotFound()
    return draft


def my_drafts(user: Any) -> QuerySet[Draft]:
    qs = Draft.objects.select_related("procedure").filter(submitted_dossier__isnull=True)
    if not is_citizen(user):
        return qs.none()
    return qs.filter(owner=user)


def applicant_for(user: User, data: dict[str, Any]) -> Applicant:
    """The applicant: name and identification from the signed-in identity, the rest from
    the draft."""
    business = user.kind == UserKind.BUSINESS
    return Applicant(
        name=user.full_name or user.get_full_name() or user.username,
        id_number=(user.tax_code if business else user.personal_id) or "",
        kind=ApplicantKind.BUSINESS if business else ApplicantKind.CITIZEN,
        phone=str(data.get("phone", "")).strip(),
        email=str(data.get("email", "")).strip(),
        address=str(data.get("address", "")).strip(),
    )


# --- writes ---------------------------------------------------------------------------------


def _check_citizen(actor: Any) -> None:
    if not is_citizen(actor):
        raise OutOfScope(_("Only a signed-in citizen or business can submit online."))


def _clean_data(data: dict[str, Any]) -> dict[str, str]:
    return {key: str(data[key]).strip()[:MAX_VALUE_LENGTH] for key in DATA_KEYS if key in data}


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def draft_save(
    *,
    actor: User,
    procedure: Procedure,
    data: dict[str, Any],
    uploads: Sequence[tuple[DocumentRequirement, UploadedFile]] = (),
    reuse: Sequence[tuple[DocumentRequirement, DossierDocument | None]] = (),
    draft: Draft | None = None,
) -> DraftSaved:
    """Create or update the citizen's draft for `procedure`: the applicant data and agency in
    `data`, a new upload per requirement (replacing an earlier one; refused files leave
    the rest saved and are reported per requirement), and the reuse choices (None clears a
    reuse)."""
    _check_citizen(actor)
    if not is_submittable(procedure):
        raise ValidationFailed(_("This procedure cannot be submitted online."))
    if draft is None:
        draft = Draft.objects.create(owner=actor, procedure=procedure)
    elif draft.owner_id != actor.pk or draft.submitted_dossier_id is not None:
        raise NotFound()
    elif draft.procedure_id != procedure.pk:
        raise ValidationFailed(_("This draft belongs to another procedure."))
    draft.data = {**(draft.data or {}), **_clean_data(data)}
    draft.save()

    own_docs = personal_documents(actor)
    result = DraftSaved(draft)
    for requirement, source in reuse:
        if requirement.procedure_id != procedure.pk:
            continue
        existing = draft.documents.filter(requirement=requirement)
        if source is None:
            existing.filter(reused_from__isnull=False).delete()
            continue
        if not own_docs.filter(pk=source.pk).exists():
            raise NotFound()
        if existing.filter(reused_from=source).exists():
            continue  # the autosave sends the same choice again
        existing.delete()
        DraftDocument.objects.create(
            draft=draft,
            requirement=requirement,
            reused_from=source,
            original_name=source.name,
            sha256=source.sha256,
            size=source.size,
            content_type=source.content_type,
        )
    for requirement, upload in uploads:
        if requirement.procedure_id != procedure.pk:
            continue
        error = upload_error(upload)
        if error:
            result.errors[requirement.pk] = error
            continue
        draft.documents.filter(requirement=requirement).delete()
        document = DraftDocument(
            draft=draft,
            requirement=requirement,
            original_name=posixpath.basename(upload.name or "")[:255],
            sha256=_sha256(upload),
            size=upload.size or 0,
            content_type=(upload.content_type or "")[:100],
        )
        document.file.save(document.original_name or "document", upload, save=False)
        document.save()
    return result


def _submitted_documents(draft: Draft) -> list[SubmittedDocument]:
    documents: list[SubmittedDocument] = []
    for doc in draft.documents.select_related("requirement", "reused_from"):
        name = doc.requirement.name if doc.requirement else doc.original_name
        if doc.reused_from is not None:
            documents.append(
                SubmittedDocument(
                    name=name, requirement=doc.requirement, reused_from=doc.reused_from
                )
            )
        elif doc.file:
            handle = File(doc.file.open("rb"), name=doc.original_name or "document")
            handle.content_type = doc.content_type  # type: ignore[attr-defined]
            documents.append(SubmittedDocument(name=name, requirement=doc.requirement, file=handle))
    return documents


def missing_requirements(draft: Draft) -> list[DocumentRequirement]:
    present = set(draft.documents.values_list("requirement_id", flat=True))
    return [r for r in draft.procedure.documents.all() if r.is_required and r.pk not in present]


@transaction.atomic
def draft_submit(
    *,
    actor: User,
    draft: Draft,
    agency: Agency,
    procedure_bundle: ProcedureBundle | None = None,
) -> Dossier:
    """Submit the draft as an online dossier at `agency` (or, with `procedure_bundle`, the
    bundle with `agency` as the commune); the dossier of the draft's procedure is returned."""
    _check_citizen(actor)
    draft = Draft.objects.select_for_update().select_related("procedure").get(pk=draft.pk)
    if draft.owner_id != actor.pk:
        raise NotFound()
    if draft.submitted_dossier_id is not None:
        raise ValidationFailed(_("This draft has already been submitted."))
    procedure = draft.procedure
    if not is_submittable(procedure):
        raise ValidationFailed(_("This procedure cannot be submitted online."))
    missing = missing_requirements(draft)
    if missing:
        raise ValidationFailed(
            _("Attach every required document: %(names)s.")
            % {"names": "; ".join(r.name for r in missing)},
            fields={f"doc_{r.pk}": _("This document is required.") for r in missing},
        )
    applicant = applicant_for(actor, draft.data or {})
    documents = _submitted_documents(draft)
    try:
        if procedure_bundle is not None:
            if not procedure_bundle.parts.filter(procedure=procedure).exists():
                raise ValidationFailed(_("This procedure is not part of that bundle."))
            if agency.kind != AgencyKind.COMMUNE_COMMITTEE or not agency.is_active:
                raise ValidationFailed(
                    _("Choose the commune's people's committee."),
                    fields={"commune": _("Choose the commune's people's committee.")},
                )
            bundle = services.bundle_submit(
                actor=actor,
                procedure_bundle=procedure_bundle,
                commune_agency=agency,
                applicant=applicant,
                channel=Channel.ONLINE,
                documents=documents,
                owner=actor,
            )
            dossiers = list(bundle.dossiers.order_by("pk"))
            dossier = next((d for d in dossiers if d.procedure_id == procedure.pk), dossiers[0])
        else:
            if agency.pk not in {a.pk for a in receiving_agencies(procedure)}:
                raise ValidationFailed(
                    _("This agency does not handle this procedure."),
                    fields={"agency": _("Choose the agency that receives the dossier.")},
                )
            dossier = services.dossier_submit(
                actor=actor,
                procedure=procedure,
                agency=agency,
                channel=Channel.ONLINE,
                applicant=applicant,
                documents=documents,
                owner=actor,
            )
    finally:
        for doc in documents:
            if doc.file is not None:
                doc.file.close()
    draft.submitted_dossier = dossier
    draft.save(update_fields=["submitted_dossier", "updated_at"])
    return dossier
