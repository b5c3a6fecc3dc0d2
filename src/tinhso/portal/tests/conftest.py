"""Fixtures of the portal tests: the demo province's catalog (about 250 real procedures),
the dossier desk of `tinhso.dossiers` for tracking and "my dossiers", and a fresh search
index (the root conftest clears the cache, where the tracking rate limit lives)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tinhso.conftest import data_for_module
from tinhso.dossiers.tests.conftest import desk  # noqa: F401
from tinhso.portal import search


@pytest.fixture(autouse=True)
def _fresh_search_index():
    search.invalidate_index()
    yield
    search.invalidate_index()


@pytest.fixture(scope="module")
def _demo_catalog_of_module(django_db_setup, django_db_blocker) -> Iterator[None]:
    from tinhso.core.demo import demo_load

    with data_for_module(django_db_blocker, lambda: demo_load(dossiers=False)):
        yield


@pytest.fixture
def demo_catalog(_demo_catalog_of_module, db) -> None:
    """The demo province without its dossiers: agencies and the full procedure catalog,
    loaded once per module (each test's changes are undone after it)."""
