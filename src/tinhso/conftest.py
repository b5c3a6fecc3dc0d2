"""Shared test personas: one province, two communes, an agency in each, and officials whose
scopes differ, so every list and detail can be tested for its refusals too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import override_settings

from tinhso.browser_fixtures import browser_page, browser_world, chromium_browser  # noqa: F401
from tinhso.core import services
from tinhso.core.models import AdministrativeUnit, Agency, AgencyKind, Role, UnitLevel, User


@dataclass
class World:
    province: AdministrativeUnit
    commune_a: AdministrativeUnit
    commune_b: AdministrativeUnit
    department_agency: Agency
    agency_a: Agency
    agency_b: Agency
    desk_a: User
    desk_b: User
    specialist_dept: User
    provincial_leader: User
    administrator: User
    citizen: User
    nobody: User


def _official(username: str, agency: Agency, *roles: str) -> User:
    user = services.official_save(
        actor=None, username=username, full_name=username.title(), agency=agency, roles=roles
    )
    user.set_password("secret-pass-1")
    user.save(update_fields=["password"])
    return user


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # Primary keys repeat across tests (each rolls back): never reuse a cached calendar.
    from django.core.cache import cache

    from tinhso.catalog import cache as catalog_cache
    from tinhso.core.selectors import invalidate_calendar_cache
    from tinhso.integration.caller_cache import forget_callers
    from tinhso.ioc import closed_days
    from tinhso.ioc.alerts import reset_throttle

    cache.clear()  # rate-limit counters and the like: each test starts from none
    invalidate_calendar_cache()
    reset_throttle()  # the alert hook's cached rules and agencies, likewise
    forget_callers()  # the API keys' cached callers, likewise
    catalog_cache.forget()  # and the procedures' fee cases and steps
    closed_days.forget()  # and the operations centre's sums over closed days
    yield
    invalidate_calendar_cache()
    reset_throttle()
    forget_callers()
    catalog_cache.forget()
    closed_days.forget()


@pytest.fixture(scope="session")
def _media_root(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _test_settings(settings, _media_root) -> None:
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = FAST_HASHERS
    # Files the tests store (uploads, results, the demo's scans) go to a temporary directory.
    settings.MEDIA_ROOT = _media_root


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def data_for_module(django_db_blocker, load: Callable[[], object]) -> Iterator[None]:
    """Data that every test of a module only reads (the demo province, say), written once.

    `load` runs inside a transaction that stays open while the module's tests run; each test
    then runs in a savepoint of it (pytest-django's `db`), so what a test changes is undone
    after it, and the transaction is rolled back after the module: the next module starts from
    an empty database again. Only for modules without `transactional_db` or `live_server`."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            load()
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(db) -> World:
    province = services.unit_create(
        actor=None,
        code="19",
        name="Thái Nguyên",
        level=UnitLevel.PROVINCE,
        division_type="tỉnh",
    )
    commune_a = services.unit_create(
        actor=None,
        code="05443",
        name="Phường Phan Đình Phùng",
        level=UnitLevel.COMMUNE,
        parent=province,
        division_type="phường",
    )
    commune_b = services.unit_create(
        actor=None,
        code="05710",
        name="Phường Linh Sơn",
        level=UnitLevel.COMMUNE,
        parent=province,
        division_type="phường",
    )
    department_agency = services.agency_save(
        actor=None,
        code="000.00.04.H55",
        name="Sở Tư pháp",
        kind=AgencyKind.PROVINCIAL_DEPARTMENT,
        unit=province,
    )
    agency_a = services.agency_save(
        actor=None,
        code="000.00.21.H55",
        name="UBND phường Phan Đình Phùng",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        unit=commune_a,
    )
    agency_b = services.agency_save(
        actor=None,
        code="000.00.22.H55",
        name="UBND phường Linh Sơn",
        kind=AgencyKind.COMMUNE_COMMITTEE,
        unit=commune_b,
    )
    citizen = User.objects.create_user(
        username="citizen", password="secret-pass-1", kind="citizen", personal_id="019090000001"
    )
    nobody = User.objects.create_user(username="nobody", password="secret-pass-1")
    return World(
        province=province,
        commune_a=commune_a,
        commune_b=commune_b,
        department_agency=department_agency,
        agency_a=agency_a,
        agency_b=agency_b,
        desk_a=_official("desk.a", agency_a, Role.DESK_OFFICER),
        desk_b=_official("desk.b", agency_b, Role.DESK_OFFICER),
        specialist_dept=_official("specialist.stp", department_agency, Role.SPECIALIST),
        provincial_leader=_official("leader.province", department_agency, Role.PROVINCIAL_LEADER),
        administrator=_official("admin.province", department_agency, Role.ADMINISTRATOR),
        citizen=citizen,
        nobody=nobody,
    )
