"""The `tinhso` console commands whose output other tools parse."""

from __future__ import annotations

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tinhso.core.models import AdministrativeUnit, AuditRecord, CalendarOverride


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def province(db):
    run("units", "load", "--province", "19")
    return AdministrativeUnit.objects.get(code="19", level="province")


def test_due_prints_exactly_one_iso_line_with_the_vietnam_offset(province):
    out = run("calendar", "due", "--from", "2027-02-03T16:30:00+07:00", "--working-days", "5")
    assert out.splitlines() == ["2027-02-17T16:30:00+07:00"]
    assert datetime.fromisoformat(out.strip()).utcoffset().total_seconds() == 7 * 3600


def test_due_converts_an_instant_given_in_utc(province):
    out = run("calendar", "due", "--from", "2027-02-03T09:30:00+00:00", "--working-days", "5")
    assert out.strip() == "2027-02-17T16:30:00+07:00"


def test_hours_prints_a_decimal_number(province):
    out = run(
        "calendar",
        "hours",
        "--from",
        "2027-02-03T16:30:00+07:00",
        "--to",
        "2027-02-17T16:30:00+07:00",
    )
    assert out.splitlines() == ["40"]
    half = run(
        "calendar",
        "hours",
        "--from",
        "2026-11-25T07:30:00+07:00",
        "--to",
        "2026-11-25T08:00:00+07:00",
    )
    assert half.strip() == "0.5"


def test_override_add_moves_the_deadline_and_is_listed_and_audited(province):
    out = run(
        "calendar",
        "override",
        "add",
        "--date",
        "2027-02-13",
        "--kind",
        "workday",
        "--reason",
        "Làm bù",
    )
    assert "2027-02-13" in out
    listed = run("calendar", "override", "list")
    assert listed.splitlines() == ["2027-02-13\tworkday\tLàm bù"]
    due = run("calendar", "due", "--from", "2027-02-03T16:30:00+07:00", "--working-days", "5")
    assert due.strip() == "2027-02-16T16:30:00+07:00"
    assert AuditRecord.objects.filter(action="calendar.override_add", source="cli").exists()


def test_override_for_another_province_is_kept_apart(province):
    run("units", "load", "--province", "20")
    run(
        "calendar",
        "override",
        "add",
        "--date",
        "2027-02-11",
        "--kind",
        "dayoff",
        "--reason",
        "Nghỉ bù",
        "--province",
        "20",
    )
    assert CalendarOverride.objects.get().province.code == "20"
    own = run("calendar", "due", "--from", "2027-02-03T16:30:00+07:00", "--working-days", "5")
    other = run(
        "calendar",
        "due",
        "--from",
        "2027-02-03T16:30:00+07:00",
        "--working-days",
        "5",
        "--province",
        "20",
    )
    assert own.strip() == "2027-02-17T16:30:00+07:00"
    assert other.strip() == "2027-02-18T16:30:00+07:00"


@pytest.mark.parametrize(
    "args",
    [
        ("calendar", "due", "--from", "2027-02-03T16:30:00", "--working-days", "5"),
        ("calendar", "due", "--from", "hôm qua", "--working-days", "5"),
        ("calendar", "due", "--from", "2027-02-03T16:30:00+07:00", "--working-days", "-1"),
        ("calendar", "due", "--from", "2027-02-03T16:30:00+07:00", "--working-days", "năm"),
        (
            "calendar",
            "due",
            "--from",
            "2027-02-03T16:30:00+07:00",
            "--working-days",
            "5",
            "--province",
            "88",
        ),
        ("calendar", "override", "remove", "--date", "2027-01-01"),
        (
            "calendar",
            "override",
            "add",
            "--date",
            "13/02/2027",
            "--kind",
            "workday",
            "--reason",
            "x",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(province, args):
    with pytest.raises(CommandError):
        run(*args)


def test_units_load_reports_counts_and_is_idempotent(db):
    first = run("units", "load", "--province", "19")
    second = run("units", "load", "--province", "19")
    assert first.strip() == "provinces: 1, created: 93, updated: 0, retired: 0"
    assert second.strip() == "provinces: 1, created: 0, updated: 0, retired: 0"
