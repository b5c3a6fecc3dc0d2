"""Demo satisfaction ratings: about two in three owners of a finished online dossier rate it
a few hours to a few days after its result, mostly well, through the same service as the
portal's rating page, so the operations centre's satisfaction figures are not empty."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from tinhso.dossiers.models import Dossier
from tinhso.dossiers.states import Status
from tinhso.portal.aftercare import RATING_CRITERIA, rating_submit
from tinhso.portal.models import SatisfactionRating

SEED = 20250702
RATED_SHARE = 0.65
#: How a criterion is scored, with its weight: most are satisfied, a few are not.
SCORE_WEIGHTS = ((5, 55), (4, 30), (3, 9), (2, 4), (1, 2))


def rate_demo_dossiers(*, seed: int = SEED, now: datetime | None = None) -> int:
    """Rate a share of the finished demo dossiers that have an owner, once; returns how many
    (0 when ratings exist)."""
    if SatisfactionRating.objects.exists():
        return 0
    rng = random.Random(seed)
    now = now or timezone.now()
    scores, weights = zip(*SCORE_WEIGHTS, strict=True)
    rated = 0
    finished = (
        Dossier.objects.filter(status=Status.DONE, owner__isnull=False)
        .select_related("owner")
        .order_by("returned_at", "pk")
    )
    for dossier in finished:
        if rng.random() >= RATED_SHARE or dossier.returned_at is None:
            continue
        at = dossier.returned_at + timedelta(hours=rng.uniform(2, 96))
        if at >= now:
            continue
        rating_submit(
            actor=dossier.owner,
            dossier=dossier,
            scores={key: rng.choices(scores, weights)[0] for key, _label in RATING_CRITERIA},
            at=at,
        )
        rated += 1
    return rated
