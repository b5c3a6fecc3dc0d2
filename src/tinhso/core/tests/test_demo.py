"""The demo province the README's run command serves."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tinhso.conftest import data_for_module
from tinhso.core.demo import DEMO_PASSWORD, demo_load
from tinhso.core.models import (
    AdministrativeUnit,
    Agency,
    AgencyKind,
    AuditRecord,
    Department,
    Role,
    RoleAssignment,
    User,
)


@pytest.fixture(scope="module")
def _demo_of_module(django_db_setup, django_db_blocker):
    with data_for_module(django_db_blocker, lambda: demo_load(dossiers=False)):
        yield


@pytest.fixture
def demo(_demo_of_module, db) -> None:
    """The demo province without dossiers, loaded once for this module."""


def test_demo_is_thai_nguyen_after_the_merger_with_its_communes(demo):
    province = AdministrativeUnit.objects.get(level="province", valid_until__isnull=True)
    assert (province.code, province.name) == ("19", "Thái Nguyên")
    names = set(province.children.values_list("name", flat=True))
    assert len(names) == 92
    assert "Phường Đức Xuân" in names  # the former Bắc Kạn town is part of it now


def test_demo_has_about_forty_agencies_of_every_kind(demo):
    assert 35 <= Agency.objects.count() <= 45
    kinds = set(Agency.objects.values_list("kind", flat=True))
    assert {
        AgencyKind.PROVINCIAL_DEPARTMENT,
        AgencyKind.COMMUNE_COMMITTEE,
        AgencyKind.POLICE,
    } <= kinds
    assert all(code.endswith(".H55") for code in Agency.objects.values_list("code", flat=True))


def test_demo_has_officials_for_every_role(demo):
    held = set(RoleAssignment.objects.values_list("role", flat=True))
    assert held == set(Role.values)
    assert Department.objects.filter(is_one_stop_desk=True).count() >= 39


def test_loading_the_demo_twice_creates_no_duplicates(demo):
    counts = (
        Agency.objects.count(),
        User.objects.count(),
        Department.objects.count(),
        AdministrativeUnit.objects.count(),
        AuditRecord.objects.count(),
    )
    demo_load(dossiers=False)
    assert counts == (
        Agency.objects.count(),
        User.objects.count(),
        Department.objects.count(),
        AdministrativeUnit.objects.count(),
        AuditRecord.objects.count(),
    )


def test_sign_in_page_lists_demo_accounts_that_work(client, demo, settings):
    settings.DEMO_MODE = True
    page = client.get(reverse("core:signin")).content.decode()
    assert "sotuphap.motcua1" in page and DEMO_PASSWORD in page
    response = client.post(
        reverse("core:signin"), {"username": "sotuphap.motcua1", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302


def test_sign_in_page_hides_demo_accounts_outside_demo_mode(client, demo, settings):
    settings.DEMO_MODE = False
    assert DEMO_PASSWORD not in client.get(reverse("core:signin")).content.decode()
