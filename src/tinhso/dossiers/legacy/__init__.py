"""Moving dossiers between one-stop systems without losing their history: JSON Lines, one
dossier per line with its documents, step visits and events (docs/formats.md, "Dossiers").

The import is all or nothing: every line is checked, and if any is wrong nothing is written
and every bad line is reported. A code already present is skipped, never overwritten, so a
file can be imported again. Imported events are history: they are inserted as they are and
fire no notification hooks (the applicants were told at the time).

`export` writes the lines; `reading` checks each line into the rows it would write and
`writing` writes them; `_common` holds what both directions check against. Callers import
from here."""

from __future__ import annotations

from tinhso.dossiers.legacy._common import (
    ACTIONS,
    APPLICANT_KINDS,
    BATCH_SIZE,
    CHANNELS,
    CODE_SHAPE,
    DOCUMENT_KINDS,
    FORMAT,
    OUTCOMES,
    RETURN_METHODS,
    STATUSES,
    TIMELINESS,
)
from tinhso.dossiers.legacy.export import (
    dossier_record,
    export_dossiers,
)
from tinhso.dossiers.legacy.reading import (
    ImportResult,
    LineError,
)
from tinhso.dossiers.legacy.writing import (
    import_dossiers,
)

__all__ = [
    "ACTIONS",
    "APPLICANT_KINDS",
    "BATCH_SIZE",
    "CHANNELS",
    "CODE_SHAPE",
    "DOCUMENT_KINDS",
    "FORMAT",
    "OUTCOMES",
    "RETURN_METHODS",
    "STATUSES",
    "TIMELINESS",
    "ImportResult",
    "LineError",
    "dossier_record",
    "export_dossiers",
    "import_dossiers",
]
