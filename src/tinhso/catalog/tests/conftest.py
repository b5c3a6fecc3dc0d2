"""Fixtures of the catalog tests: a small catalog document (`catalog_sample.json`, four
procedures in four fields and one bundle) on top of the shared personas."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tinhso.catalog import services

SAMPLE_PATH = Path(__file__).resolve().parent / "catalog_sample.json"
_SAMPLE = json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))


def sample_document() -> dict[str, Any]:
    """A fresh copy of the sample document (tests change it freely)."""
    return copy.deepcopy(_SAMPLE)


def by_code(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its lists keyed by code, so order does not matter in comparisons."""
    return {
        key: {e["code"]: e for e in value} if isinstance(value, list) else value
        for key, value in document.items()
    }


@pytest.fixture
def sample() -> dict[str, Any]:
    return sample_document()


@pytest.fixture
def catalog(world, sample):
    """The sample catalog, imported by the system."""
    services.catalog_import(actor=None, document=sample, source="cli")
    return sample
