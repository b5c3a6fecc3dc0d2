"""Moving dossiers between systems: an export imported into an empty dossier database gives
back the same dossiers, documents, step visits and events; imports are idempotent, all or
nothing, and new codes continue after the imported ones."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from tinhso.catalog.models import BundlePart, DocumentRequirement, Procedure, ProcedureBundle
from tinhso.core.errors import OutOfScope
from tinhso.core.models import AuditRecord
from tinhso.dossiers import legacy, services
from tinhso.dossiers.legacy import FORMAT, ImportResult, export_dossiers, import_dossiers
from tinhso.dossiers.models import (
    Bundle,
    Dossier,
    DossierCodeCounter,
    DossierDocument,
    DossierEvent,
    StepVisit,
)
from tinhso.dossiers.services import SubmittedDocument
from tinhso.dossiers.states import Status, Timeliness

from .conftest import Desk, vn

T0 = vn(2026, 11, 30, 8, 0)  # a Monday; three working days end Thursday 08:00
H = timedelta(hours=1)


def build_history(desk: Desk) -> list[Dossier]:
    """Dossiers in every kind of situation, each reached through the services."""
    world = desk.world
    form = DocumentRequirement.objects.create(
        procedure=desk.procedure, position=1, name="Tờ khai đăng ký khai sinh"
    )
    birth_certificate = DocumentRequirement.objects.create(
        procedure=desk.procedure, position=2, name="Giấy chứng sinh"
    )
    built: list[Dossier] = [desk.received(T0)]

    d = desk.in_processing(T0)
    built.append(
        services.dossier_forward(
            actor=desk.specialist,
            dossier=d,
            assignee=desk.agency_leader,
            note="Đủ điều kiện",
            at=T0 + H,
        )
    )

    d = services.dossier_forward(actor=desk.specialist, dossier=desk.in_processing(T0), at=T0 + H)
    built.append(
        services.dossier_send_back(
            actor=desk.agency_leader, dossier=d, reason="Bổ sung ý kiến thẩm định", at=T0 + 2 * H
        )
    )

    built.append(
        services.dossier_transfer(
            actor=desk.specialist,
            dossier=desk.in_processing(T0),
            to_agency=world.department_agency,
            reason="Xin ý kiến Sở Tư pháp",
            at=T0 + H,
        )
    )

    d = services.dossier_transfer(
        actor=desk.specialist,
        dossier=desk.in_processing(T0),
        to_agency=world.department_agency,
        reason="Xin ý kiến Sở Tư pháp",
        at=T0 + H,
    )
    built.append(
        services.dossier_transfer_return(
            actor=world.specialist_dept, dossier=d, note="Đã có ý kiến", at=T0 + 3 * H
        )
    )

    built.append(
        services.dossier_request_supplement(
            actor=desk.specialist,
            dossier=desk.in_processing(T0),
            reason="Thiếu giấy chứng sinh",
            missing=["Giấy chứng sinh"],
            at=T0 + H,
        )
    )

    d = services.dossier_request_supplement(
        actor=desk.specialist,
        dossier=desk.in_processing(T0),
        reason="Thiếu giấy chứng sinh",
        missing=["Giấy chứng sinh"],
        at=T0 + H,
    )
    built.append(
        services.dossier_supplement(
            actor=None,
            dossier=d,
            documents=[
                SubmittedDocument(
                    name="Giấy chứng sinh",
                    requirement=birth_certificate,
                    file=ContentFile(b"%PDF-1.4 giay chung sinh", name="chung-sinh.pdf"),
                )
            ],
            note="Đã bổ sung",
            at=T0 + 26 * H,
        )
    )

    d = services.dossier_forward(actor=desk.specialist, dossier=desk.in_processing(T0), at=T0 + H)
    d = services.dossier_approve(
        actor=desk.agency_leader,
        dossier=d,
        result_summary="Giấy khai sinh số 12/2026",
        result_file=ContentFile(b"%PDF-1.4 giay khai sinh", name="ket-qua.pdf"),
        at=T0 + 2 * H,
    )
    built.append(
        services.dossier_return_result(actor=desk.desk, dossier=d, method="desk", at=T0 + 3 * H)
    )

    d = services.dossier_approve(
        actor=desk.agency_leader, dossier=desk.in_processing(T0), at=vn(2026, 12, 7, 9, 0)
    )
    built.append(
        services.dossier_return_result(
            actor=desk.desk, dossier=d, method="post", at=vn(2026, 12, 7, 10, 0)
        )
    )

    d = services.dossier_reject(
        actor=desk.agency_leader,
        dossier=desk.in_processing(T0),
        reason="Không đủ điều kiện",
        at=T0 + 2 * H,
    )
    built.append(
        services.dossier_return_result(actor=desk.desk, dossier=d, method="online", at=T0 + 3 * H)
    )

    built.append(
        services.dossier_refuse(
            actor=desk.desk, dossier=desk.submit(T0), reason="Không thuộc thẩm quyền", at=T0 + H
        )
    )

    built.append(
        services.dossier_withdraw(
            actor=desk.desk,
            dossier=desk.in_processing(T0),
            reason="Người dân xin rút hồ sơ",
            at=T0 + H,
        )
    )

    built.append(
        services.dossier_apologize(
            actor=desk.agency_leader,
            dossier=desk.in_processing(T0),
            new_due_at=vn(2026, 12, 8, 17, 0),
            reason="Cần xác minh thêm",
            at=vn(2026, 12, 2, 9, 0),
        )
    )

    d = services.dossier_suspend(
        actor=desk.agency_leader, dossier=desk.in_processing(T0), reason="Chờ xác minh", at=T0 + H
    )
    built.append(
        services.dossier_resume(
            actor=desk.agency_leader, dossier=d, note="Đã xác minh", at=T0 + 5 * H
        )
    )

    built.append(
        services.dossier_submit(
            actor=world.citizen,
            procedure=desk.procedure,
            agency=world.agency_a,
            channel="online",
            applicant=desk.applicant,
            documents=[SubmittedDocument(name="Tờ khai", requirement=form)],
            at=T0 + H,
        )
    )

    residence = Procedure.objects.create(
        code="1.004194",
        name="Đăng ký thường trú",
        field=desk.procedure.field,
        level="province",
        agency_kinds=["provincial_department"],
        processing_days=Decimal("5"),
        online="full",
    )
    bundle_kind = ProcedureBundle.objects.create(code="LT-KS-TT", name="Khai sinh, thường trú")
    BundlePart.objects.create(
        bundle=bundle_kind, position=1, procedure=desk.procedure, agency_kind="commune_committee"
    )
    BundlePart.objects.create(
        bundle=bundle_kind, position=2, procedure=residence, agency_kind="provincial_department"
    )
    bundle = services.bundle_submit(
        actor=None,
        procedure_bundle=bundle_kind,
        commune_agency=world.agency_a,
        applicant=desk.applicant,
        at=T0 + 2 * H,
    )
    built += list(bundle.dossiers.all())

    built.append(
        services.dossier_receive_at_desk(
            actor=world.desk_b,
            procedure=desk.procedure,
            applicant=desk.applicant,
            at=vn(2026, 12, 1, 9, 0),
        )
    )
    return built


@pytest.fixture
def history(desk, settings, tmp_path) -> list[Dossier]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return build_history(desk)


def export_text(queryset: Any = None) -> str:
    out = io.StringIO()
    export_dossiers(out, queryset)
    return out.getvalue()


def import_text(text: str, **kwargs: Any) -> ImportResult:
    return import_dossiers(io.StringIO(text), **kwargs)


def empty_dossier_tables() -> None:
    """Empty every dossier table under the ORM's feet. Events refuse DELETE on PostgreSQL,
    but TRUNCATE fires no row trigger (SQLite guards only UPDATE, so DELETE works there)."""
    from tinhso.integration.models import OutboxMessage
    from tinhso.payments.models import Bill, BillLine, Payment, PaymentOrder, Refund

    # The outbox goes too: its messages are keyed by dossier code, and codes come back. So do
    # the bills the demo's submissions created.
    tables = [
        model._meta.db_table
        for model in (
            Refund,
            Payment,
            PaymentOrder,
            BillLine,
            Bill,
            DossierEvent,
            StepVisit,
            DossierDocument,
            Dossier,
            Bundle,
            DossierCodeCounter,
            OutboxMessage,
        )
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks still pending in the test's transaction would make
            # PostgreSQL refuse the TRUNCATE: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    assert not Dossier.objects.exists()


def records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def lines_of(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


# --- export ---------------------------------------------------------------------------------


def test_export_writes_one_dossier_per_line_sorted_by_code_with_its_whole_history(history):
    text = export_text()
    rows = records(text)
    assert len(rows) == len(history)
    assert [r["code"] for r in rows] == sorted(d.code for d in history)
    assert "Nguyễn Văn An" in text  # UTF-8, not \u escapes
    assert {r["format"] for r in rows} == {FORMAT}
    statuses = {r["status"] for r in rows}
    assert statuses >= {
        Status.SUBMITTED,
        Status.RECEIVED,
        Status.IN_PROCESSING,
        Status.TRANSFERRED,
        Status.SUPPLEMENT_REQUESTED,
        Status.DONE,
        Status.REFUSED,
        Status.WITHDRAWN,
    }
    assert {r["timeliness"] for r in rows} >= {Timeliness.EARLY, Timeliness.LATE}

    early = next(r for r in rows if r["timeliness"] == Timeliness.EARLY and r["outcome"])
    assert early["submitted_at"] == "2026-11-30T08:00:00+07:00"
    assert early["department"] == {"agency": "000.00.21.H55", "code": "vp"}
    assert [e["seq"] for e in early["events"]] == list(range(1, len(early["events"]) + 1))
    assert [e["action"] for e in early["events"]] == [
        "submit",
        "receive",
        "assign",
        "forward",
        "approve",
        "return_result",
    ]
    assert early["events"][1]["actor"] == "desk.a"
    assert [v["step"] for v in early["step_visits"]] == [1, 2, 3]
    result = next(doc for doc in early["documents"] if doc["kind"] == "result")
    assert result["file"].startswith("dossiers/") and result["file"].endswith(".pdf")
    assert result["verified_by"] == "a.chairman"
    assert len(result["sha256"]) == 64

    parts = [r for r in rows if r["bundle"]]
    assert len(parts) == 2
    assert parts[0]["bundle"]["key"] == parts[1]["bundle"]["key"] == min(r["code"] for r in parts)
    assert parts[0]["bundle"]["procedure_bundle"] == "LT-KS-TT"


def test_export_takes_a_queryset(history, desk):
    text = export_text(Dossier.objects.filter(agency=desk.world.agency_b))
    assert [r["agency"] for r in records(text)] == ["000.00.22.H55"]


# --- import ---------------------------------------------------------------------------------


def test_export_imported_into_an_empty_database_gives_back_every_dossier_and_event(history):
    original = export_text()
    kept = {d.code: (d.version, d.unit_path) for d in Dossier.objects.all()}
    counts = (DossierEvent.objects.count(), StepVisit.objects.count())
    empty_dossier_tables()

    result = import_text(original)

    assert result == ImportResult(created=len(history), skipped=0)
    # Field by field, document by document, event by event.
    assert export_text().splitlines() == original.splitlines()
    assert {d.code: (d.version, d.unit_path) for d in Dossier.objects.all()} == kept
    assert (DossierEvent.objects.count(), StepVisit.objects.count()) == counts
    bundle_ids = set(
        Dossier.objects.filter(bundle__isnull=False).values_list("bundle_id", flat=True)
    )
    assert len(bundle_ids) == 1 and Bundle.objects.count() == 1
    assert AuditRecord.objects.filter(action="dossier.import").count() == len(history)


def test_imported_dossiers_carry_on_through_the_services(history, desk):
    original = export_text()
    empty_dossier_tables()
    import_text(original)
    dossier = Dossier.objects.get(
        status=Status.IN_PROCESSING, current_step__position=3, assignee=desk.agency_leader
    )
    version = dossier.version
    dossier = services.dossier_approve(actor=desk.agency_leader, dossier=dossier, at=T0 + 4 * H)
    assert dossier.events.order_by("seq").last().seq == version + 1


def test_importing_the_same_file_again_creates_nothing_and_skips_every_dossier(history):
    original = export_text()
    empty_dossier_tables()

    first = import_text(original)
    second = import_text(original)

    assert first == ImportResult(created=len(history), skipped=0)
    assert second == ImportResult(created=0, skipped=len(history))
    assert export_text() == original


def test_a_dossier_already_present_is_never_overwritten(history):
    rows = records(export_text())
    rows[0]["note"] = "Ghi chú khác"
    rows[0]["events"].append({**rows[0]["events"][-1], "seq": len(rows[0]["events"]) + 1})
    before = export_text()

    result = import_text(lines_of(rows))

    assert result == ImportResult(created=0, skipped=len(history))
    assert export_text() == before


def set_path(row: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target = row
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


BAD_LINES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "unknown procedure",
        lambda r: set_path(r, ("procedure",), "9.999999"),
        "procedure: unknown procedure code '9.999999'",
    ),
    (
        "unknown status",
        lambda r: set_path(r, ("status",), "archived"),
        "status: unknown value 'archived'",
    ),
    (
        "non-contiguous seq",
        lambda r: set_path(r, ("events", -1, "seq"), len(r["events"]) + 1),
        ".seq: expected",
    ),
    (
        "naive timestamp",
        lambda r: set_path(r, ("submitted_at",), "2026-11-30T08:00:00"),
        "submitted_at: no UTC offset in '2026-11-30T08:00:00'",
    ),
    (
        "naive event timestamp",
        lambda r: set_path(r, ("events", 0, "at"), "2026-11-30 08:00"),
        "events[0].at: no UTC offset",
    ),
    (
        "unknown action",
        lambda r: set_path(r, ("events", 0, "action"), "archive"),
        "events[0].action: unknown value 'archive'",
    ),
    (
        "unknown agency",
        lambda r: set_path(r, ("agency",), "000.00.99.H99"),
        "agency: unknown agency code '000.00.99.H99'",
    ),
    (
        "unknown department",
        lambda r: set_path(r, ("department",), {"agency": "000.00.21.H55", "code": "xx"}),
        "department: no department 'xx' in agency '000.00.21.H55'",
    ),
    (
        "unknown assignee",
        lambda r: set_path(r, ("assignee",), "old.officer"),
        "assignee: unknown username 'old.officer'",
    ),
    (
        "misspelt field",
        lambda r: set_path(r, ("recieved_at",), None),
        "recieved_at: unknown field",
    ),
    ("no events", lambda r: set_path(r, ("events",), []), "events: at least one event"),
    (
        "wrong format",
        lambda r: set_path(r, ("format",), "other/1"),
        "format: expected 'tinhso.dossier/1'",
    ),
]


@pytest.mark.parametrize(
    ("spoil", "expected"), [case[1:] for case in BAD_LINES], ids=[c[0] for c in BAD_LINES]
)
def test_a_bad_line_is_reported_with_its_number_and_nothing_is_written(
    history, monkeypatch, spoil, expected
):
    monkeypatch.setattr(legacy.writing, "BATCH_SIZE", 2)  # earlier lines written, then undone
    rows = records(export_text())
    empty_dossier_tables()
    spoil(rows[-1])

    result = import_text(lines_of(rows))

    assert result.created == result.skipped == 0
    assert [e.line for e in result.errors] == [len(rows)]
    assert expected in result.errors[0].message, result.errors[0].message
    assert str(result.errors[0]).startswith(f"line {len(rows)}: ")
    assert not Dossier.objects.exists()
    assert not DossierEvent.objects.exists()
    assert not DossierCodeCounter.objects.exists()
    assert not Bundle.objects.exists()


def test_every_bad_line_is_reported_at_once(history):
    rows = records(export_text())
    empty_dossier_tables()
    rows[1]["status"] = "archived"
    rows[1]["channel"] = "fax"
    rows[3]["events"][0]["seq"] = 7
    text = lines_of(rows).splitlines()
    text.insert(5, "{not json")
    text.insert(6, "")  # blank lines are ignored, but counted
    text.insert(7, lines_of(rows[:1]).strip())  # the same code twice

    result = import_text("\n".join(text) + "\n")

    assert [e.line for e in result.errors] == [2, 4, 6, 8]
    assert "status: unknown value 'archived'" in result.errors[0].message
    assert "channel: unknown value 'fax'" in result.errors[0].message
    assert "events[0].seq: expected 1, found 7" in result.errors[1].message
    assert "not valid JSON" in result.errors[2].message
    assert "is already on line 1" in result.errors[3].message
    assert not Dossier.objects.exists()


def test_an_event_of_an_official_who_left_keeps_the_name_without_an_account(desk):
    dossier = desk.received(T0)
    [row] = records(export_text())
    empty_dossier_tables()
    row["events"][1]["actor"] = "old.officer"
    row["events"][1]["actor_label"] = "old.officer (Trần Thị Bình)"
    row["events"][0]["actor_label"] = None

    assert import_text(lines_of([row])) == ImportResult(created=1, skipped=0)

    receive = DossierEvent.objects.get(dossier__code=dossier.code, seq=2)
    assert receive.actor is None
    assert receive.actor_label == "old.officer (Trần Thị Bình)"
    assert DossierEvent.objects.get(dossier__code=dossier.code, seq=1).actor_label == "system"


def test_new_submissions_continue_the_code_sequence_after_an_import(desk):
    agency = desk.world.agency_a
    for _ in range(3):
        desk.submit(T0)
    rows = records(export_text())
    empty_dossier_tables()
    rows[1]["code"] = "HS-2019/000123"  # another system's shape: kept as it is
    rows[2]["code"] = f"{agency.code}-261201-0042"
    DossierCodeCounter.objects.create(agency=agency, day=date(2026, 12, 2), last=50)
    rows.append({**rows[0], "code": f"{agency.code}-261202-0007"})

    assert import_text(lines_of(rows)).created == 4

    assert desk.submit(T0 + H).code == f"{agency.code}-261130-0002"
    assert desk.submit(vn(2026, 12, 1, 8, 0)).code == f"{agency.code}-261201-0043"
    # A counter already further on is not moved back.
    assert desk.submit(vn(2026, 12, 2, 8, 0)).code == f"{agency.code}-261202-0051"
    assert Dossier.objects.filter(code="HS-2019/000123").exists()


def test_dossiers_of_one_submission_are_linked_again(history):
    rows = [r for r in records(export_text()) if r["bundle"]]
    empty_dossier_tables()
    # Imported one file at a time: the part whose code is the key comes first.
    assert import_text(lines_of(rows[:1])).created == 1
    assert import_text(lines_of(rows[1:])).created == 1
    assert Bundle.objects.count() == 1
    assert Dossier.objects.filter(bundle__isnull=False).count() == 2


def test_only_administrators_import(history, desk):
    text = export_text()
    with pytest.raises(OutOfScope):
        import_text(text, actor=desk.desk)
    result = import_text(text, actor=desk.world.administrator)
    assert result.skipped == len(history)


FORMATS_DOC = Path(__file__).resolve().parents[4] / "docs" / "formats.md"


@pytest.mark.skipif(not FORMATS_DOC.exists(), reason="docs/ is not beside the sources")
def test_the_example_in_the_format_documentation_imports_and_exports_back(desk):
    section = FORMATS_DOC.read_text(encoding="utf-8").split("## Dossiers (JSON Lines)")[1]
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.DOTALL)[1])
    DocumentRequirement.objects.create(
        procedure=desk.procedure, position=1, name="Tờ khai đăng ký khai sinh"
    )

    assert import_text(json.dumps(example, ensure_ascii=False)) == ImportResult(1, 0)

    [exported] = records(export_text())
    # The approving chairman has no account here: the event keeps only the name.
    assert exported["events"][4]["actor"] is None
    example["events"][4]["actor"] = None
    assert exported == example


# --- command line ---------------------------------------------------------------------------


def test_the_command_exports_and_imports_a_file(history, tmp_path):
    path = tmp_path / "dossiers.jsonl"
    out = io.StringIO()
    call_command("dossiers", "export", str(path), stdout=out)
    assert out.getvalue().strip() == f"exported: {len(history)}"
    original = path.read_text(encoding="utf-8")
    assert original == export_text()
    empty_dossier_tables()

    out = io.StringIO()
    call_command("dossiers", "import", str(path), stdout=out)

    assert out.getvalue().strip() == f"created: {len(history)}, skipped: 0"
    assert export_text() == original
    out = io.StringIO()
    call_command("dossiers", "import", str(path), stdout=out)
    assert out.getvalue().strip() == f"created: 0, skipped: {len(history)}"


def test_the_command_exports_one_agency_since_a_day(history, desk, tmp_path):
    path = tmp_path / "dossiers.jsonl"
    call_command("dossiers", "export", str(path), "--agency", "000.00.21.H55", stdout=io.StringIO())
    rows = records(path.read_text(encoding="utf-8"))
    assert len(rows) == len(history) - 2  # the walk-in at B, the bundle's part at the Sở
    assert {r["agency"] for r in rows} == {"000.00.21.H55"}

    call_command("dossiers", "export", str(path), "--since", "2026-12-01", stdout=io.StringIO())
    assert [r["agency"] for r in records(path.read_text(encoding="utf-8"))] == ["000.00.22.H55"]

    with pytest.raises(CommandError, match="no agency with code"):
        call_command("dossiers", "export", str(path), "--agency", "nope")
    with pytest.raises(CommandError, match="not a date"):
        call_command("dossiers", "export", str(path), "--since", "01/12/2026")


def test_the_command_lists_the_first_bad_lines_and_imports_nothing(history, tmp_path):
    rows = records(export_text())
    empty_dossier_tables()
    path = tmp_path / "bad.jsonl"
    bad = [{**rows[0], "code": f"X-{n}", "status": "archived"} for n in range(25)]
    path.write_text(lines_of(rows[:1] + bad), encoding="utf-8")

    with pytest.raises(CommandError) as failure:
        call_command("dossiers", "import", str(path))

    message = str(failure.value)
    assert message.startswith("25 bad lines, nothing was imported:")
    assert "line 2: status: unknown value 'archived'" in message
    assert "line 21: " in message and "line 22: " not in message
    assert message.endswith("… and 5 more bad lines")
    assert not Dossier.objects.exists()


def test_the_command_reports_a_file_that_is_not_utf8(db, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"code": "Nguyễn"}\n'.encode("utf-16"))
    with pytest.raises(CommandError, match="line 1: not UTF-8"):
        call_command("dossiers", "import", str(path))


def test_the_export_of_the_demo_dossiers_imports_into_an_empty_database_unchanged(db):
    from tinhso.core.demo import demo_load
    from tinhso.dossiers.demo import load_demo_dossiers

    from .test_demo import NOW, make_catalog

    demo_load(dossiers=False)
    make_catalog()
    load_demo_dossiers(now=NOW)
    original = export_text()
    counts = (Dossier.objects.count(), DossierEvent.objects.count(), StepVisit.objects.count())
    assert counts[0] >= 280
    empty_dossier_tables()
    result = import_text(original)
    assert not result.errors and result.created == counts[0]
    assert (
        Dossier.objects.count(),
        DossierEvent.objects.count(),
        StepVisit.objects.count(),
    ) == counts
    assert export_text() == original
