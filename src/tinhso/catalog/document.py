"""The catalog document (docs/formats.md, "Procedure catalog (JSON)") checked as a whole.

`validate_document` is plain Python: it takes the parsed JSON and the codes that already exist
in the database, and returns the cleaned entries or every error it found, each naming the
entry by its path (`procedures[12].fees[0].amount`). The import service writes nothing
unless the list of errors is empty."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

FORMAT = "tinhso.catalog/1"

LEVELS = ("province", "commune", "both")
ONLINE = ("full", "partial", "none")
AGENCY_KINDS = (
    "provincial_committee",
    "provincial_department",
    "public_service_centre",
    "police",
    "social_insurance",
    "commune_committee",
    "other",
)
WORKFLOW_ROLES = ("desk_officer", "specialist", "department_leader", "agency_leader")

#: Fee amounts are whole đồng; the bound only keeps typing slips (an extra 000…) out.
MAX_AMOUNT = 10**13
MAX_COUNT = 32767

PROCEDURE_KEYS = (
    "code",
    "name",
    "field",
    "level",
    "agency_kinds",
    "agencies",
    "processing_days",
    "online",
    "is_essential",
    "result_type",
    "legal_basis",
    "conditions",
    "fees",
    "documents",
    "workflow",
)

PathPart = str | int
Path = tuple[PathPart, ...]


@dataclass(frozen=True)
class EntryError:
    """One bad entry: where it is in the document, and what is wrong with it."""

    path: Path
    message: str

    @property
    def location(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.path else self.message


def format_path(path: Iterable[PathPart]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True)
class FieldEntry:
    code: str
    name: str


@dataclass(frozen=True)
class FeeEntry:
    description: str
    amount: int
    legal_basis: str = ""


@dataclass(frozen=True)
class DocumentEntry:
    name: str
    originals: int = 1
    copies: int = 0
    required: bool = True
    form_template: str = ""


@dataclass(frozen=True)
class StepEntry:
    name: str
    role: str
    department: str
    share_percent: Decimal


@dataclass(frozen=True)
class ProcedureEntry:
    code: str
    name: str
    field: str
    level: str
    processing_days: Decimal
    agency_kinds: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    online: str = "none"
    is_essential: bool = False
    result_type: str = ""
    legal_basis: str = ""
    conditions: str = ""
    fees: tuple[FeeEntry, ...] = ()
    documents: tuple[DocumentEntry, ...] = ()
    workflow: tuple[StepEntry, ...] = ()


@dataclass(frozen=True)
class PartEntry:
    procedure: str
    agency_kind: str


@dataclass(frozen=True)
class BundleEntry:
    code: str
    name: str
    description: str = ""
    parts: tuple[PartEntry, ...] = ()


@dataclass
class CatalogDocument:
    fields: list[FieldEntry] = field(default_factory=list)
    procedures: list[ProcedureEntry] = field(default_factory=list)
    bundles: list[BundleEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Known:
    """What the database already holds that the document may refer to."""

    fields: frozenset[str] = frozenset()
    agencies: frozenset[str] = frozenset()
    procedures: frozenset[str] = frozenset()


def decimal_text(value: Decimal) -> str:
    """`Decimal("1.50")` → `"1.5"`, `Decimal("10.00")` → `"10"`."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class _Checker:
    """Reads one document, collecting every error instead of stopping at the first."""

    def __init__(self, known: Known) -> None:
        self.known = known
        self.errors: list[EntryError] = []

    def error(self, path: Path, message: str) -> None:
        self.errors.append(EntryError(path, message))

    # --- primitives --------------------------------------------------------------------

    def entry(self, value: Any, path: Path, allowed: Iterable[str]) -> dict | None:
        if not isinstance(value, dict):
            self.error(path, _("must be an object ({…})"))
            return None
        for key in value:
            if key not in allowed:
                self.error((*path, str(key)), _("is not a known key"))
        return value

    def text(
        self, obj: dict, key: str, path: Path, *, max_length: int, required: bool = False
    ) -> str:
        value = obj.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.error((*path, key), _("must be text"))
            return ""
        value = value.strip()
        if required and not value:
            self.error((*path, key), _("is required"))
        elif len(value) > max_length:
            self.error(
                (*path, key),
                _("is too long (at most %(max)d characters)") % {"max": max_length},
            )
        return value

    def choice(
        self, obj: dict, key: str, path: Path, choices: tuple[str, ...], default: str | None
    ) -> str | None:
        """One of `choices`; a missing key is the default, or an error when there is none."""
        if key not in obj and default is None:
            self.error((*path, key), _("is required"))
            return None
        value = obj.get(key, default)
        if value not in choices:
            self.error(
                (*path, key),
                _("must be one of %(choices)s, not %(value)s")
                % {"choices": ", ".join(choices), "value": _shown(value)},
            )
            return None
        return value

    def boolean(self, obj: dict, key: str, path: Path, default: bool) -> bool:
        value = obj.get(key, default)
        if not isinstance(value, bool):
            self.error((*path, key), _("must be true or false"))
            return default
        return value

    def count(self, obj: dict, key: str, path: Path, default: int) -> int:
        value = obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error((*path, key), _("must be a whole number"))
            return default
        if not 0 <= value <= MAX_COUNT:
            self.error((*path, key), _("must be between 0 and %(max)d") % {"max": MAX_COUNT})
            return default
        return value

    def decimal(self, obj: dict, key: str, path: Path, *, max_value: Decimal) -> Decimal:
        if key not in obj:
            self.error((*path, key), _("is required"))
            return Decimal(0)
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.error((*path, key), _('must be a decimal number written as text, e.g. "0.5"'))
            return Decimal(0)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            self.error((*path, key), _('must be a decimal number, e.g. "0.5"'))
            return Decimal(0)
        if number < 0:
            self.error((*path, key), _("cannot be negative"))
            return Decimal(0)
        if number > max_value:
            self.error((*path, key), _("must be at most %(max)s") % {"max": max_value})
            return Decimal(0)
        if number != number.quantize(Decimal("0.01")):
            self.error((*path, key), _("can have at most two decimal places"))
            return Decimal(0)
        return number

    def items(self, obj: dict, key: str, path: Path) -> list:
        value = obj.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.error((*path, key), _("must be a list ([…])"))
            return []
        return value

    # --- entries -----------------------------------------------------------------------

    def field_entry(self, raw: Any, path: Path) -> FieldEntry | None:
        obj = self.entry(raw, path, ("code", "name"))
        if obj is None:
            return None
        return FieldEntry(
            code=self.text(obj, "code", path, max_length=50, required=True),
            name=self.text(obj, "name", path, max_length=255, required=True),
        )

    def fee(self, raw: Any, path: Path) -> FeeEntry | None:
        obj = self.entry(raw, path, ("description", "amount", "legal_basis"))
        if obj is None:
            return None
        amount = obj.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int):
            self.error((*path, "amount"), _("must be a whole number of đồng"))
            amount = 0
        elif amount < 0:
            self.error((*path, "amount"), _("cannot be negative"))
            amount = 0
        elif amount > MAX_AMOUNT:
            self.error((*path, "amount"), _("is implausibly large"))
            amount = 0
        return FeeEntry(
            description=self.text(obj, "description", path, max_length=500, required=True),
            amount=amount,
            legal_basis=self.text(obj, "legal_basis", path, max_length=500),
        )

    def document(self, raw: Any, path: Path) -> DocumentEntry | None:
        obj = self.entry(raw, path, ("name", "originals", "copies", "required", "form_template"))
        if obj is None:
            return None
        return DocumentEntry(
            name=self.text(obj, "name", path, max_length=500, required=True),
            originals=self.count(obj, "originals", path, 1),
            copies=self.count(obj, "copies", path, 0),
            required=self.boolean(obj, "required", path, True),
            form_template=self.text(obj, "form_template", path, max_length=255),
        )

    def step(self, raw: Any, path: Path) -> StepEntry | None:
        obj = self.entry(raw, path, ("name", "role", "department", "share_percent"))
        if obj is None:
            return None
        return StepEntry(
            name=self.text(obj, "name", path, max_length=255, required=True),
            role=self.choice(obj, "role", path, WORKFLOW_ROLES, None) or "",
            department=self.text(obj, "department", path, max_length=30),
            share_percent=self.decimal(obj, "share_percent", path, max_value=Decimal(100)),
        )

    def procedure(self, raw: Any, path: Path, field_codes: set[str]) -> ProcedureEntry | None:
        obj = self.entry(raw, path, PROCEDURE_KEYS)
        if obj is None:
            return None
        code = self.text(obj, "code", path, max_length=50, required=True)
        name = self.text(obj, "name", path, max_length=500, required=True)
        field_code = self.text(obj, "field", path, max_length=50, required=True)
        if field_code and field_code not in field_codes:
            self.error(
                (*path, "field"),
                _("unknown field %(code)s (list it under fields)") % {"code": field_code},
            )
        level = self.choice(obj, "level", path, LEVELS, None)
        kinds: list[str] = []
        for i, kind in enumerate(self.items(obj, "agency_kinds", path)):
            if kind not in AGENCY_KINDS:
                self.error(
                    (*path, "agency_kinds", i),
                    _("must be one of %(choices)s, not %(value)s")
                    % {"choices": ", ".join(AGENCY_KINDS), "value": _shown(kind)},
                )
            elif kind in kinds:
                self.error((*path, "agency_kinds", i), _("is listed twice"))
            else:
                kinds.append(kind)
        agencies: list[str] = []
        for i, agency in enumerate(self.items(obj, "agencies", path)):
            agency_code = agency.strip() if isinstance(agency, str) else ""
            if agency_code not in self.known.agencies:
                self.error(
                    (*path, "agencies", i),
                    _("no agency has the electronic identifier code %(code)s")
                    % {"code": _shown(agency)},
                )
            elif agency_code in agencies:
                self.error((*path, "agencies", i), _("is listed twice"))
            else:
                agencies.append(agency_code)
        processing_days = self.decimal(obj, "processing_days", path, max_value=Decimal("9999.99"))
        online = self.choice(obj, "online", path, ONLINE, "none")
        is_essential = self.boolean(obj, "is_essential", path, False)
        result_type = self.text(obj, "result_type", path, max_length=500)
        legal_basis = self.text(obj, "legal_basis", path, max_length=100_000)
        conditions = self.text(obj, "conditions", path, max_length=100_000)
        fees = [
            self.fee(f, (*path, "fees", i)) for i, f in enumerate(self.items(obj, "fees", path))
        ]
        documents = [
            self.document(d, (*path, "documents", i))
            for i, d in enumerate(self.items(obj, "documents", path))
        ]
        steps = [
            self.step(s, (*path, "workflow", i))
            for i, s in enumerate(self.items(obj, "workflow", path))
        ]
        if steps and all(s is not None for s in steps):
            total = sum((s.share_percent for s in steps if s is not None), Decimal(0))
            if total != 100:
                self.error(
                    (*path, "workflow"),
                    _("the shares of the steps must add up to 100 (they add up to %(total)s)")
                    % {"total": decimal_text(total)},
                )
        return ProcedureEntry(
            code=code,
            name=name,
            field=field_code,
            level=level or "",
            processing_days=processing_days,
            agency_kinds=tuple(kinds),
            agencies=tuple(sorted(agencies)),
            online=online or "none",
            is_essential=is_essential,
            result_type=result_type,
            legal_basis=legal_basis,
            conditions=conditions,
            fees=tuple(f for f in fees if f is not None),
            documents=tuple(d for d in documents if d is not None),
            workflow=tuple(s for s in steps if s is not None),
        )

    def bundle(self, raw: Any, path: Path, procedure_codes: set[str]) -> BundleEntry | None:
        obj = self.entry(raw, path, ("code", "name", "description", "parts"))
        if obj is None:
            return None
        code = self.text(obj, "code", path, max_length=50, required=True)
        name = self.text(obj, "name", path, max_length=500, required=True)
        description = self.text(obj, "description", path, max_length=100_000)
        parts: list[PartEntry] = []
        raw_parts = self.items(obj, "parts", path)
        if not raw_parts and isinstance(obj.get("parts", []), list):
            self.error((*path, "parts"), _("a bundle needs at least one part"))
        for i, raw_part in enumerate(raw_parts):
            part_path = (*path, "parts", i)
            part = self.entry(raw_part, part_path, ("procedure", "agency_kind"))
            if part is None:
                continue
            procedure = self.text(part, "procedure", part_path, max_length=50, required=True)
            if procedure and procedure not in procedure_codes:
                self.error(
                    (*part_path, "procedure"),
                    _("unknown procedure %(code)s") % {"code": procedure},
                )
            kind = self.choice(part, "agency_kind", part_path, AGENCY_KINDS, None)
            parts.append(PartEntry(procedure=procedure, agency_kind=kind or ""))
        return BundleEntry(code=code, name=name, description=description, parts=tuple(parts))

    def unique(self, entries: list, key: str, collection: str) -> None:
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            if entry is None or not getattr(entry, key):
                continue
            value = getattr(entry, key)
            if value in seen:
                self.error(
                    (collection, i, key),
                    _("duplicate code %(code)s (already at %(where)s)")
                    % {"code": value, "where": format_path((collection, seen[value]))},
                )
            else:
                seen[value] = i


def _shown(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def validate_document(document: Any, known: Known) -> tuple[CatalogDocument, list[EntryError]]:
    """The cleaned document and the list of errors (empty when the document is good)."""
    checker = _Checker(known)
    clean = CatalogDocument()
    root = checker.entry(document, (), ("format", "fields", "procedures", "bundles"))
    if root is None:
        return clean, checker.errors
    if "format" in root and root["format"] != FORMAT:
        checker.error(
            ("format",),
            _("must be %(format)s, not %(value)s")
            % {"format": FORMAT, "value": _shown(root["format"])},
        )

    raw_fields = checker.items(root, "fields", ())
    fields = [checker.field_entry(f, ("fields", i)) for i, f in enumerate(raw_fields)]
    checker.unique(fields, "code", "fields")
    field_codes = set(known.fields) | {f.code for f in fields if f is not None}

    raw_procedures = checker.items(root, "procedures", ())
    procedures = [
        checker.procedure(p, ("procedures", i), field_codes) for i, p in enumerate(raw_procedures)
    ]
    checker.unique(procedures, "code", "procedures")
    procedure_codes = set(known.procedures) | {p.code for p in procedures if p is not None}

    raw_bundles = checker.items(root, "bundles", ())
    bundles = [
        checker.bundle(b, ("bundles", i), procedure_codes) for i, b in enumerate(raw_bundles)
    ]
    checker.unique(bundles, "code", "bundles")

    clean.fields = [f for f in fields if f is not None]
    clean.procedures = [p for p in procedures if p is not None]
    clean.bundles = [b for b in bundles if b is not None]
    return clean, checker.errors


def referenced_procedures(document: Any) -> set[str]:
    """The procedure codes the document's bundles name (to look up in the database)."""
    codes: set[str] = set()
    if not isinstance(document, dict) or not isinstance(document.get("bundles"), list):
        return codes
    for bundle in document["bundles"]:
        parts = bundle.get("parts") if isinstance(bundle, dict) else None
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, dict) and isinstance(part.get("procedure"), str):
                codes.add(part["procedure"].strip())
    return codes


def referenced_fields(document: Any) -> set[str]:
    codes: set[str] = set()
    if not isinstance(document, dict) or not isinstance(document.get("procedures"), list):
        return codes
    for procedure in document["procedures"]:
        if isinstance(procedure, dict) and isinstance(procedure.get("field"), str):
            codes.add(procedure["field"].strip())
    return codes
