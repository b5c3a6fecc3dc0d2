"""The population-database look-up, its simulator, and the personal-data access log."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tinhso.core import services as core_services
from tinhso.core.errors import ImmutableRecord, OutOfScope, ValidationFailed
from tinhso.dossiers.tests.conftest import desk, vn  # noqa: F401 - the dossier personas
from tinhso.integration import access_log
from tinhso.integration.adapters import population
from tinhso.integration.adapters.population import (
    InvalidNumber,
    PersonNotFound,
    PopulationUnavailable,
    Response,
    lookup_person,
    set_transport,
)
from tinhso.integration.identity import parse_identification_number
from tinhso.integration.models import PersonalDataAccess, SimulatorRecord, SimulatorSwitch
from tinhso.integration.simulators import population as simulator

FOUND = "019190012345"  # Thái Nguyên, female, born 1990


@pytest.fixture
def calls():
    """Route the adapter's HTTP calls to the simulator through the URLconf (no socket), and
    count them."""
    made: list[str] = []

    def transport(url: str, headers: dict[str, str], timeout: float) -> Response:
        made.append(url)
        answer = Client().get(urlsplit(url).path, headers=headers)
        return Response(status=answer.status_code, body=answer.content)

    previous = set_transport(transport)
    yield made
    set_transport(previous)


def _last() -> PersonalDataAccess:
    return PersonalDataAccess.objects.order_by("-pk").first()


def test_a_found_person_is_returned_and_the_read_is_logged(world, calls):
    person = lookup_person(
        actor=world.desk_a, id_number=FOUND, purpose="tiếp nhận hồ sơ", dossier_code="H55-1"
    )
    assert person.gender == "female"
    assert person.date_of_birth.year == 1990
    assert "Thái Nguyên" in person.permanent_address
    assert calls == [f"http://127.0.0.1:8000/sim/population/people/{FOUND}"]
    row = _last()
    assert (row.actor, row.agency, row.unit_path) == (
        world.desk_a,
        world.agency_a,
        world.commune_a.path,
    )
    assert (row.subject_id_number, row.purpose, row.dossier_code, row.outcome, row.source) == (
        FOUND,
        "tiếp nhận hồ sơ",
        "H55-1",
        access_log.FOUND,
        population.SOURCE,
    )
    received = SimulatorRecord.objects.get(simulator="population")
    assert received.payload["purpose"] == "tiếp nhận hồ sơ"
    assert received.payload["agency"] == world.agency_a.code
    assert received.payload["dossier"] == "H55-1"


def test_an_invalid_number_is_refused_without_a_call_and_logged(world, calls):
    with pytest.raises(InvalidNumber) as caught:
        lookup_person(actor=world.desk_a, id_number="019990000001", purpose="kiểm tra")
    assert "Năm sinh" in caught.value.message
    assert calls == []
    assert _last().outcome == access_log.INVALID


def test_an_unknown_person_is_not_found_and_logged(world, calls):
    with pytest.raises(PersonNotFound):
        lookup_person(actor=world.desk_a, id_number="019090000000", purpose="kiểm tra")
    assert len(calls) == 1
    assert _last().outcome == access_log.NOT_FOUND


def test_the_database_down_is_unavailable_and_logged(world, calls):
    SimulatorSwitch.objects.create(
        simulator="population", down_until=timezone.now() + timedelta(minutes=5)
    )
    with pytest.raises(PopulationUnavailable) as caught:
        lookup_person(actor=world.desk_a, id_number=FOUND, purpose="kiểm tra")
    assert caught.value.status == 503
    assert _last().outcome == access_log.UNAVAILABLE


def test_a_failing_database_is_unavailable_for_the_failures_it_was_told(world, calls):
    SimulatorSwitch.objects.create(simulator="population", fail_next=1)
    with pytest.raises(PopulationUnavailable):
        lookup_person(actor=world.desk_a, id_number=FOUND, purpose="kiểm tra")
    assert lookup_person(actor=world.desk_a, id_number=FOUND, purpose="kiểm tra").name
    assert list(PersonalDataAccess.objects.order_by("pk").values_list("outcome", flat=True)) == [
        access_log.UNAVAILABLE,
        access_log.FOUND,
    ]


def test_an_unreachable_database_is_unavailable(world, settings):
    settings.TINHSO_POPULATION_URL = "http://127.0.0.1:1/population"
    settings.TINHSO_POPULATION_TIMEOUT = 2
    with pytest.raises(PopulationUnavailable):
        lookup_person(actor=world.desk_a, id_number=FOUND, purpose="kiểm tra")
    assert _last().outcome == access_log.UNAVAILABLE


def test_a_look_up_without_a_purpose_is_refused(world, calls):
    with pytest.raises(ValidationFailed):
        lookup_person(actor=world.desk_a, id_number=FOUND, purpose="  ")
    assert calls == []
    assert _last().outcome == access_log.REFUSED


def test_a_citizen_or_an_official_without_roles_may_not_look_up(world, calls):
    no_roles = core_services.official_save(
        actor=None, username="no.roles", full_name="No Roles", agency=world.agency_a, roles=()
    )
    for actor in (world.citizen, world.nobody, no_roles, None):
        with pytest.raises(OutOfScope):
            lookup_person(actor=actor, id_number=FOUND, purpose="kiểm tra")
    assert calls == []
    assert PersonalDataAccess.objects.filter(outcome=access_log.REFUSED).count() == 4


@pytest.mark.parametrize("number", ["019090123456", "001185777777", "079205000001", FOUND])
def test_the_simulator_makes_up_the_same_consistent_person_for_a_number(db, number):
    info = parse_identification_number(number)
    person = simulator.fake_person(number)
    assert person == simulator.fake_person(number)
    assert person["gender"] == info.gender
    assert person["date_of_birth"].startswith(str(info.birth_year))
    assert person["permanent_address"].endswith("tỉnh Thái Nguyên")
    assert len(person["full_name"].split()) >= 3


def test_opening_a_dossier_page_logs_a_read_of_the_applicants_data(client, desk):  # noqa: F811
    dossier = desk.received(vn(2025, 9, 8, 9, 0))
    client.force_login(desk.desk)
    assert client.get(reverse("dossiers:detail", args=[dossier.pk])).status_code == 200
    row = _last()
    assert (row.actor, row.agency, row.source, row.purpose) == (
        desk.desk,
        desk.world.agency_a,
        "dossier_view",
        "xem hồ sơ",
    )
    assert (row.subject_id_number, row.dossier_code) == (desk.applicant.id_number, dossier.code)


def test_the_access_log_cannot_be_changed(world):
    row = access_log.record_access(
        actor=world.desk_a, subject_id_number=FOUND, purpose="kiểm tra", source="test"
    )
    # Refused by the application (ORM) and, underneath it, by the database.
    with pytest.raises(ImmutableRecord):
        PersonalDataAccess.objects.filter(pk=row.pk).update(purpose="sửa")
    row.purpose = "sửa"
    with pytest.raises(ImmutableRecord):
        row.save()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integration_personaldataaccess SET purpose = %s WHERE id = %s", ["x", row.pk]
        )
    assert PersonalDataAccess.objects.get(pk=row.pk).purpose == "kiểm tra"
