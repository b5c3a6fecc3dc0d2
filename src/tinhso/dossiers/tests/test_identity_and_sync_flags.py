"""The columns the operations centre counts instead of looking up each dossier: whether the
applicant's identity was checked (e-ID sign-in, population look-up) and when the national
portal accepted the dossier."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from tinhso.dossiers import services
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.eid.services import citizen_sign_in

pytestmark = pytest.mark.django_db
desk = dossier_fixtures.desk

MONDAY_9AM = timezone.make_aware(datetime(2026, 3, 2, 9, 0))
PERSONAL_ID = "019190012345"


def _sign_in(number: str = PERSONAL_ID):
    return citizen_sign_in(
        claims={"personal_id": number, "name": "Nguyễn Thị Lan"}, issuer="https://eid.test"
    )


def test_a_dossier_submitted_after_an_eid_sign_in_is_verified(desk):
    citizen = _sign_in()
    dossier = services.dossier_submit(
        actor=citizen,
        procedure=desk.procedure,
        agency=desk.world.agency_a,
        channel="online",
        applicant=desk.applicant,
        at=MONDAY_9AM,
    )
    assert dossier.owner == citizen
    assert Dossier.objects.get(pk=dossier.pk).identity_verified is True


def test_a_desk_submission_without_a_check_is_not_verified(desk):
    dossier = desk.received(MONDAY_9AM)
    assert Dossier.objects.get(pk=dossier.pk).identity_verified is False


def test_signing_in_with_eid_later_verifies_the_owners_earlier_dossiers(desk):
    citizen = _sign_in()
    earlier = desk.submit(MONDAY_9AM, owner=citizen)
    Dossier.objects.filter(pk=earlier.pk).update(identity_verified=False)
    someone_elses = desk.submit(MONDAY_9AM)
    _sign_in()
    assert Dossier.objects.get(pk=earlier.pk).identity_verified is True
    assert Dossier.objects.get(pk=someone_elses.pk).identity_verified is False


def test_a_population_look_up_that_finds_the_applicant_verifies_that_dossier(desk, world):
    from tinhso.integration.adapters import population

    dossier = desk.submit(MONDAY_9AM)
    other = desk.submit(MONDAY_9AM)
    body = (
        b'{"personal_id": "019190012345", "full_name": "Nguy\\u1ec5n Th\\u1ecb Lan",'
        b' "date_of_birth": "1990-01-01", "gender": "female"}'
    )
    previous = population.set_transport(
        lambda url, headers, timeout: population.Response(status=404, body=b"")
    )
    try:
        with pytest.raises(population.PersonNotFound):
            population.lookup_person(
                actor=world.desk_a,
                id_number=PERSONAL_ID,
                purpose="tiếp nhận",
                dossier_code=dossier.code,
            )
        assert Dossier.objects.get(pk=dossier.pk).identity_verified is False
        population.set_transport(
            lambda url, headers, timeout: population.Response(status=200, body=body)
        )
        population.lookup_person(
            actor=world.desk_a,
            id_number=PERSONAL_ID,
            purpose="tiếp nhận",
            dossier_code=dossier.code,
        )
    finally:
        population.set_transport(previous)
    assert Dossier.objects.get(pk=dossier.pk).identity_verified is True
    assert Dossier.objects.get(pk=other.pk).identity_verified is False
