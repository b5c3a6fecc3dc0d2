"""Import, second half: the checked lines written in batches, all or nothing, with the code
counters carried on and an audit record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Greatest

from tinhso.core.audit import actor_label
from tinhso.core.models import AuditRecord, User
from tinhso.core.services import require_admin
from tinhso.dossiers.legacy._common import (
    BATCH_SIZE,
    FORMAT,
)
from tinhso.dossiers.legacy.export import (
    dossier_record,
    export_dossiers,
)
from tinhso.dossiers.legacy.reading import (
    ImportResult,
    LineError,
    _Lookups,
    _parse_line,
    _Planned,
)
from tinhso.dossiers.models import (
    Bundle,
    Dossier,
    DossierCodeCounter,
    DossierDocument,
    DossierEvent,
    StepVisit,
)

# --- import: writing ------------------------------------------------------------------------


class _Rejected(Exception):
    """Raised inside the transaction to roll everything back when a line is bad."""


@dataclass
class _Importer:
    actor: User | None
    source: str
    lookups: _Lookups = field(default_factory=_Lookups)
    errors: list[LineError] = field(default_factory=list)
    created: int = 0
    skipped: int = 0
    codes: dict[str, int] = field(default_factory=dict)
    bundles: dict[str, Bundle] = field(default_factory=dict)
    counters: dict[tuple[int, date], int] = field(default_factory=dict)

    def run(self, lines: Iterable[tuple[int, str]]) -> None:
        batch: list[_Planned] = []
        for number, raw in lines:
            planned, problems = _parse_line(raw, number, self.lookups)
            if planned is not None:
                first = self.codes.setdefault(planned.dossier.code, number)
                if first != number:
                    problems = [f"code: {planned.dossier.code!r} is already on line {first}"]
            if problems or planned is None:
                self.errors.append(LineError(number, "; ".join(problems)))
            elif not self.errors:  # after the first bad line, only check the rest
                batch.append(planned)
                if len(batch) >= BATCH_SIZE:
                    self._write(batch)
                    batch = []
        if batch and not self.errors:
            self._write(batch)
        if not self.errors:
            self._advance_counters()

    def _bundle_for(self, planned: _Planned, present_bundle_id: int | None) -> Bundle:
        """The submission this line's bundle key stands for: the one already met in this
        import, else the one of a dossier already here (this one, or the one whose code is
        the key), else a new one."""
        assert planned.bundle is not None
        key, procedure_bundle, created_at = planned.bundle
        bundle = self.bundles.get(key)
        if bundle is None:
            bundle_id = present_bundle_id or (
                Dossier.objects.filter(code=key, bundle__isnull=False)
                .values_list("bundle_id", flat=True)
                .first()
            )
            if bundle_id is not None:
                bundle = Bundle.objects.select_related("procedure_bundle").get(pk=bundle_id)
            else:
                bundle = Bundle.objects.create(
                    procedure_bundle=procedure_bundle,
                    created_at=created_at or planned.dossier.submitted_at,
                )
            self.bundles[key] = bundle
        if bundle.procedure_bundle_id != procedure_bundle.pk:
            self._error(
                planned,
                f"bundle: key {key!r} is a {bundle.procedure_bundle.code} submission here, "
                f"not {procedure_bundle.code}",
            )
        elif present_bundle_id is not None and present_bundle_id != bundle.pk:
            self._error(planned, f"bundle: key {key!r} links dossiers of different submissions")
        return bundle

    def _error(self, planned: _Planned, message: str) -> None:
        self.errors.append(LineError(planned.line, message))

    def _write(self, batch: list[_Planned]) -> None:
        existing = dict(
            Dossier.objects.filter(code__in=[p.dossier.code for p in batch]).values_list(
                "code", "bundle_id"
            )
        )
        new = []
        # Present dossiers first: their submissions are the ones new parts join.
        for planned in batch:
            if planned.dossier.code not in existing:
                new.append(planned)
                continue
            self.skipped += 1
            bundle_id = existing[planned.dossier.code]
            if planned.bundle is not None and bundle_id is not None:
                self._bundle_for(planned, bundle_id)
        for planned in new:
            if planned.bundle is not None:
                planned.dossier.bundle = self._bundle_for(planned, None)
        if self.errors or not new:
            return
        Dossier.objects.bulk_create([p.dossier for p in new])
        documents, visits, events, audit = [], [], [], []
        dossier_type = ContentType.objects.get_for_model(Dossier)
        label = actor_label(self.actor)
        for planned in new:
            dossier = planned.dossier
            for child in (*planned.documents, *planned.visits, *planned.events):
                child.dossier = dossier
            documents += planned.documents
            visits += planned.visits
            events += planned.events
            audit.append(
                AuditRecord(
                    actor=self.actor if self.actor is not None and self.actor.pk else None,
                    actor_label=label,
                    action="dossier.import",
                    object_type=dossier_type,
                    object_id=str(dossier.pk),
                    object_repr=dossier.code,
                    after={
                        "code": dossier.code,
                        "status": dossier.status,
                        "events": len(planned.events),
                    },
                    agency_id=dossier.agency_id,
                    unit_path=dossier.unit_path,
                    source=self.source,
                )
            )
            if planned.counter is not None:
                agency, day, sequence = planned.counter
                key = (agency.pk, day)
                self.counters[key] = max(self.counters.get(key, 0), sequence)
        DossierDocument.objects.bulk_create(documents)
        StepVisit.objects.bulk_create(visits)
        DossierEvent.objects.bulk_create(events)  # inserts only: events are append-only
        AuditRecord.objects.bulk_create(audit)
        self.created += len(new)

    def _advance_counters(self) -> None:
        """New codes for an agency and day continue after the imported ones."""
        for (agency_id, day), sequence in sorted(self.counters.items()):
            counter, created = DossierCodeCounter.objects.get_or_create(
                agency_id=agency_id, day=day, defaults={"last": sequence}
            )
            if not created and counter.last < sequence:
                DossierCodeCounter.objects.filter(pk=counter.pk).update(
                    last=Greatest("last", Value(sequence))
                )


def _numbered_lines(stream: IO[str] | IO[bytes]) -> Iterator[tuple[int, str] | LineError]:
    for number, raw in enumerate(stream, start=1):
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield LineError(number, f"not UTF-8 ({exc.reason} at byte {exc.start})")
                continue
        else:
            text = raw
        if number == 1:
            text = text.removeprefix("\ufeff")
        if text.strip():
            yield number, text


def import_dossiers(
    stream: IO[str] | IO[bytes], *, actor: User | None = None, source: str = "cli"
) -> ImportResult:
    """Import the JSON Lines in `stream` in one transaction: dossiers whose code is already
    present are skipped; if any line is wrong nothing is written and every bad line is in
    `errors`. Administrators only (`actor=None` is the system, e.g. the console command)."""
    require_admin(actor)
    importer = _Importer(actor=actor, source=source)

    def lines() -> Iterator[tuple[int, str]]:
        for item in _numbered_lines(stream):
            if isinstance(item, LineError):
                importer.errors.append(item)
            else:
                yield item

    try:
        with transaction.atomic():
            importer.run(lines())
            if importer.errors:
                raise _Rejected()
    except _Rejected:
        errors = sorted(importer.errors, key=lambda e: e.line)
        return ImportResult(created=0, skipped=0, errors=tuple(errors))
    return ImportResult(created=importer.created, skipped=importer.skipped)


__all__ = [
    "FORMAT",
    "ImportResult",
    "LineError",
    "dossier_record",
    "export_dossiers",
    "import_dossiers",
]
