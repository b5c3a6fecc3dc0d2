"""After submission, on the citizen's side: answering a supplement request online, and rating
a finished dossier once (the national portal's satisfaction survey, each criterion 1–5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tinhso.core.errors import Conflict, IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import User
from tinhso.dossiers import services
from tinhso.dossiers.models import Dossier, DossierEvent
from tinhso.dossiers.states import Action, Status
from tinhso.dossiers.uploads import upload_error
from tinhso.portal.models import SatisfactionRating
from tinhso.portal.selectors import is_citizen

#: The criteria of the satisfaction survey, as on the national public-service portal.
RATING_CRITERIA: tuple[tuple[str, Any], ...] = (
    ("reception", gettext_lazy("Reception of the dossier")),
    ("time", gettext_lazy("Processing time")),
    ("attitude", gettext_lazy("Attitude of the officials")),
    ("result", gettext_lazy("Result of the processing")),
    ("information", gettext_lazy("Openness and transparency of information")),
)
RATING_MIN, RATING_MAX = 1, 5
#: At most this many files in one supplement.
MAX_SUPPLEMENT_FILES = 10


def _require_owner(actor: User, dossier: Dossier) -> None:
    if not is_citizen(actor) or dossier.owner_id != actor.pk:
        raise OutOfScope()


def supplement_request(dossier: Dossier) -> DossierEvent | None:
    """The latest request for a supplement of `dossier` (its data["missing"] lists what)."""
    return dossier.events.filter(action=Action.REQUEST_SUPPLEMENT).order_by("-seq").first()


def citizen_supplement(
    *, actor: User, dossier: Dossier, uploads: Sequence[UploadedFile], note: str = ""
) -> Dossier:
    """The owner answers a supplement request online with the missing documents; the dossier
    goes back where it was and its clock restarts."""
    _require_owner(actor, dossier)
    if dossier.status != Status.SUPPLEMENT_REQUESTED:
        raise IllegalTransition(_("No supplement is requested for this dossier."))
    files = [u for u in uploads if u]
    if not files:
        raise ValidationFailed(
            _("Attach at least one document."), fields={"files": _("Attach at least one document.")}
        )
    if len(files) > MAX_SUPPLEMENT_FILES:
        message = _("Attach at most %(n)d files.") % {"n": MAX_SUPPLEMENT_FILES}
        raise ValidationFailed(message, fields={"files": message})
    for upload in files:
        error = upload_error(upload)
        if error:
            message = f"{upload.name}: {error}"
            raise ValidationFailed(message, fields={"files": message})
    documents = [
        services.SubmittedDocument(name=upload.name or _("Supplement"), file=upload)
        for upload in files
    ]
    return services.dossier_supplement(
        actor=actor,
        dossier=dossier,
        documents=documents,
        note=note.strip(),
        expected_version=dossier.version,
    )


def _clean_scores(scores: dict[str, Any]) -> dict[str, int]:
    cleaned: dict[str, int] = {}
    errors: dict[str, str] = {}
    for key, _label in RATING_CRITERIA:
        value = scores.get(key)
        try:
            number = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = 0
        if not RATING_MIN <= number <= RATING_MAX:
            errors[key] = _("Choose from 1 to 5.")
        else:
            cleaned[key] = number
    unknown = set(scores) - {key for key, _label in RATING_CRITERIA}
    if unknown:
        errors["scores"] = _("Unknown criteria.")
    if errors:
        raise ValidationFailed(_("Rate every criterion from 1 to 5."), fields=errors)
    return cleaned


def rating_submit(
    *,
    actor: User,
    dossier: Dossier,
    scores: dict[str, Any],
    comment: str = "",
    at: datetime | None = None,
) -> SatisfactionRating:
    """The owner's rating of their finished dossier, once (`at`: when, for imports and the
    demo; now by default)."""
    _require_owner(actor, dossier)
    if dossier.status != Status.DONE:
        raise IllegalTransition(_("A dossier can be rated once its result is returned."))
    cleaned = _clean_scores(scores)
    # The mean rounded half up (3.5 → 4), not to even.
    overall = int(sum(cleaned.values()) / len(cleaned) + 0.5)
    try:
        with transaction.atomic():
            if SatisfactionRating.objects.filter(dossier=dossier).exists():
                raise Conflict(_("This dossier has already been rated."))
            return SatisfactionRating.objects.create(
                dossier=dossier,
                owner=actor,
                scores=cleaned,
                overall=max(RATING_MIN, min(RATING_MAX, overall)),
                comment=comment.strip()[:2000],
                created_at=at or timezone.now(),
            )
    except IntegrityError as exc:  # two submissions at once: the one-to-one keeps one
        raise Conflict(_("This dossier has already been rated.")) from exc
