"""The demo province's procedure catalog: `data/procedures.json`, imported through the same
service as any other catalog file (so it leaves the same audit trail, and loading it twice
changes nothing)."""

from __future__ import annotations

import json
from pathlib import Path

from tinhso.catalog.services import ImportResult, catalog_import

DEMO_CATALOG = Path(__file__).resolve().parent / "data" / "procedures.json"


def load_demo_catalog(path: Path | None = None) -> ImportResult:
    document = json.loads((path or DEMO_CATALOG).read_text(encoding="utf-8"))
    return catalog_import(actor=None, document=document, source="demo")
