"""The format's name, the code shape and the enumerations both directions check against."""

from __future__ import annotations

import re

from tinhso.dossiers.models import (
    ApplicantKind,
    DocumentKind,
    ReturnMethod,
)
from tinhso.dossiers.states import (
    Action,
    Channel,
    Outcome,
    Status,
    Timeliness,
)

FORMAT = "tinhso.dossier/1"
#: `<agency code>-<yymmdd>-<sequence>`, the shape Tỉnh Số gives (design §3.3).
CODE_SHAPE = re.compile(r"^(?P<agency>.+)-(?P<day>\d{6})-(?P<sequence>\d+)$")
BATCH_SIZE = 500
# Enumerations as tuples: the TextChoices `values` property rebuilds its list on every call.
STATUSES = tuple(Status.values)
ACTIONS = tuple(Action.values)
CHANNELS = tuple(Channel.values)
OUTCOMES = tuple(Outcome.values)
RETURN_METHODS = tuple(ReturnMethod.values)
TIMELINESS = tuple(Timeliness.values)
APPLICANT_KINDS = tuple(ApplicantKind.values)
DOCUMENT_KINDS = tuple(DocumentKind.values)
