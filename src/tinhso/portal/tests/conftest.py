"""Fixtures of the portal tests: the demo province's catalog (about 250 real procedures),
the dossier desk of `tinhso.dossiers` for tracking and "my dossiers", and a clean cache
(the tracking rate limit lives there)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tinhso.dossiers.tests.conftest import desk  # noqa: F401
from tinhso.portal import search


@pytest.fixture(autouse=True)
def _clean_cache_and_index():
    cache.clear()
    search.invalidate_index()
    yield
    cache.clear()
    search.invalidate_index()


@pytest.fixture
def demo_catalog(db) -> None:
    """The demo province without its dossiers: agencies and the full procedure catalog."""
    from tinhso.core.demo import demo_load

    demo_load(dossiers=False)
