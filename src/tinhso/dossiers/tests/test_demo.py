"""The demo dossiers: a realistic mix of states at the demo agencies, made through the
services, deterministic, and loaded once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Count

from tinhso.catalog.models import DocumentRequirement, Field, Procedure, WorkflowStep
from tinhso.core.demo import demo_load
from tinhso.core.models import Agency, Role
from tinhso.core.working_calendar import VIETNAM_TZ
from tinhso.dossiers.demo import load_demo_dossiers
from tinhso.dossiers.models import DocumentKind, Dossier, DossierDocument, DossierEvent
from tinhso.dossiers.states import OPEN_STATUSES, Channel, Status

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=VIETNAM_TZ)

#: A small catalog shaped like the demo's: (code, name, agency kinds, agency codes, days,
#: workflow as (step, role, department code, share)).
CATALOG = (
    (
        "1.001193",
        "Đăng ký khai sinh",
        ["commune_committee"],
        [],
        "3",
        [
            ("Tiếp nhận hồ sơ", Role.DESK_OFFICER, "motcua", "10"),
            ("Thẩm định, trình ký", Role.SPECIALIST, "vp", "50"),
            ("Phê duyệt", Role.AGENCY_LEADER, "", "30"),
            ("Trả kết quả", Role.DESK_OFFICER, "motcua", "10"),
        ],
    ),
    (
        "1.004194",
        "Đăng ký thường trú",
        ["police"],
        [],
        "7",
        [
            ("Tiếp nhận hồ sơ", Role.DESK_OFFICER, "", "15"),
            ("Thẩm định hồ sơ", Role.SPECIALIST, "pc06", "60"),
            ("Phê duyệt", Role.DEPARTMENT_LEADER, "pc06", "25"),
        ],
    ),
    (
        "2.000488",
        "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
        [],
        ["000.00.04.H55"],
        "10",
        [
            ("Thẩm định", Role.SPECIALIST, "hctp", "60"),
            ("Trình lãnh đạo phòng", Role.DEPARTMENT_LEADER, "hctp", "20"),
            ("Phê duyệt", Role.AGENCY_LEADER, "", "20"),
        ],
    ),
    (
        "1.000000",
        "Cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        ["social_insurance"],
        [],
        "0.5",
        [],
    ),
)


def make_catalog() -> list[Procedure]:
    field = Field.objects.get_or_create(code="demo", defaults={"name": "Thủ tục mẫu"})[0]
    procedures = []
    for code, name, kinds, agency_codes, days, steps in CATALOG:
        if Procedure.objects.filter(code=code).exists():
            continue  # the demo catalog has it already
        procedure = Procedure.objects.create(
            code=code,
            name=name,
            field=field,
            level="commune",
            agency_kinds=kinds,
            processing_days=Decimal(days),
            result_type=f"Kết quả: {name}",
        )
        procedure.agencies.set(Agency.objects.filter(code__in=agency_codes))
        for position, doc in enumerate(("Tờ khai", "Giấy tờ chứng minh"), start=1):
            DocumentRequirement.objects.create(procedure=procedure, position=position, name=doc)
        for position, (step, role, department, share) in enumerate(steps, start=1):
            WorkflowStep.objects.create(
                procedure=procedure,
                position=position,
                name=step,
                role=role,
                department_code=department,
                share_percent=Decimal(share),
            )
        procedures.append(procedure)
    return procedures


def test_demo_dossiers_are_a_realistic_mix_made_once(db):
    # One test: loading the demo province and three hundred dossiers takes a few seconds.
    demo_load(dossiers=False)
    make_catalog()
    created = load_demo_dossiers(now=NOW)
    assert 280 <= created == Dossier.objects.count() <= 300
    _over_sixty_days_and_never_in_the_future()
    _every_state_a_desk_sees()
    _events_in_office_hours_and_in_order()
    _digitised_like_a_province()
    _online_applicants_own_their_dossiers_and_most_rate_them()
    assert load_demo_dossiers(now=NOW) == 0
    assert Dossier.objects.count() == created


def _over_sixty_days_and_never_in_the_future() -> None:
    first = Dossier.objects.order_by("submitted_at").first().submitted_at
    assert (NOW - first).days <= 61
    assert not Dossier.objects.filter(submitted_at__gt=NOW).exists()
    assert not DossierEvent.objects.filter(at__gt=NOW).exists()


def _every_state_a_desk_sees() -> None:
    statuses = dict(Dossier.objects.values_list("status").annotate(n=Count("pk")))
    for status in (
        Status.SUBMITTED,
        Status.RECEIVED,
        Status.IN_PROCESSING,
        Status.TRANSFERRED,
        Status.SUPPLEMENT_REQUESTED,
        Status.APPROVED,
        Status.DONE,
        Status.REFUSED,
        Status.WITHDRAWN,
    ):
        assert statuses.get(status, 0) >= 2, (status, statuses)
    assert statuses[Status.DONE] > sum(statuses.get(s, 0) for s in OPEN_STATUSES) / 2
    done = dict(
        Dossier.objects.filter(status=Status.DONE).values_list("timeliness").annotate(n=Count("pk"))
    )
    assert done.get("early", 0) > done.get("on_time", 0) > 0, done
    assert done.get("late", 0) > 0, done
    assert Dossier.objects.filter(apology_count__gt=0).exists()
    assert Dossier.objects.filter(status=Status.IN_PROCESSING, due_at__lt=NOW).exists()
    assert set(Dossier.objects.values_list("channel", flat=True)) == {"desk", "online", "post"}
    assert Dossier.objects.values("agency").distinct().count() >= 20


def _digitised_like_a_province() -> None:
    """Online dossiers arrive as files, most paper ones are scanned at the desk, most results
    are electronic: the operations centre's digitisation figures are not zero."""
    inputs = DossierDocument.objects.filter(kind=DocumentKind.INPUT)
    online = inputs.filter(dossier__channel=Channel.ONLINE)
    assert online.exists() and not online.filter(is_digitised=False).exists()
    paper = inputs.exclude(dossier__channel=Channel.ONLINE)
    scanned = paper.filter(is_digitised=True).values("dossier").distinct().count()
    assert 0.4 < scanned / paper.values("dossier").distinct().count() < 0.8
    done = Dossier.objects.filter(status=Status.DONE, outcome="approved")
    electronic = done.filter(documents__kind=DocumentKind.RESULT, documents__is_digitised=True)
    assert 0.5 < electronic.distinct().count() / done.count() < 0.9


def _online_applicants_own_their_dossiers_and_most_rate_them() -> None:
    from tinhso.portal.demo import rate_demo_dossiers
    from tinhso.portal.models import SatisfactionRating

    online = Dossier.objects.filter(channel=Channel.ONLINE)
    assert not online.filter(owner__isnull=True).exists()
    assert not Dossier.objects.exclude(channel=Channel.ONLINE).filter(owner__isnull=False).exists()
    owner = online.first().owner
    assert owner.kind == "citizen" and owner.personal_id == online.first().applicant_id_number
    assert not owner.has_usable_password()  # the e-ID only

    rated = rate_demo_dossiers(now=NOW)
    finished = online.filter(status=Status.DONE).count()
    assert rated == SatisfactionRating.objects.count() and 0.4 < rated / finished < 0.9
    for rating in SatisfactionRating.objects.select_related("dossier"):
        assert rating.owner_id == rating.dossier.owner_id
        assert rating.dossier.returned_at < rating.created_at < NOW
    overall = list(SatisfactionRating.objects.values_list("overall", flat=True))
    assert sum(overall) / len(overall) > 3.5  # mostly satisfied, not all
    assert rate_demo_dossiers(now=NOW) == 0  # each dossier is rated once


def _events_in_office_hours_and_in_order() -> None:
    previous: dict[int, datetime] = {}
    events = DossierEvent.objects.order_by("dossier", "seq").values_list("dossier", "at")
    for dossier_id, at in events:
        local = at.astimezone(VIETNAM_TZ)
        assert local.weekday() < 5, local
        clock = local.strftime("%H:%M:%S")
        assert "07:30" <= clock <= "11:30:00" or "13:00" <= clock <= "17:00:00", local
        assert at >= previous.get(dossier_id, at)
        previous[dossier_id] = at


def test_the_days_around_tet_carry_a_rush_then_a_lull():
    from datetime import date

    from tinhso.dossiers.demo import MONTH_LOAD, _day_load, _tet_days

    tet = _tet_days({2026})
    assert tet == [date(2026, 2, 17)]
    assert _day_load(date(2026, 2, 10), tet) == MONTH_LOAD[2] * 1.5  # a week before Tết
    assert _day_load(date(2026, 2, 24), tet) == MONTH_LOAD[2] * 0.35  # a week after
    assert _day_load(date(2026, 3, 20), tet) == MONTH_LOAD[3]


def test_the_year_of_history_is_finished_and_older_than_the_recent_dossiers(db):
    from tinhso.dossiers.states import OPEN_STATUSES

    demo_load(dossiers=False)
    make_catalog()
    created = load_demo_dossiers(now=NOW, count=0, history_count=120, history_days=365)
    assert created == Dossier.objects.count() >= 110
    assert not Dossier.objects.filter(status__in=OPEN_STATUSES).exists()
    newest = Dossier.objects.order_by("-submitted_at").first().submitted_at
    oldest = Dossier.objects.order_by("submitted_at").first().submitted_at
    assert (NOW - newest).days >= 60 and (NOW - oldest).days <= 366
