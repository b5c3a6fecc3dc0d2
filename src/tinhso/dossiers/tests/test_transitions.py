"""Every transition: the allowed path, and each refusal (wrong state, wrong role, wrong
scope, missing reason), with the event trail and the version check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tinhso.core import services as core_services
from tinhso.core.errors import Conflict, IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import Role, User
from tinhso.dossiers import hooks, services
from tinhso.dossiers.models import Dossier, DossierEvent
from tinhso.dossiers.states import RULES, Action, Status

from .conftest import Desk, vn

T0 = vn(2026, 11, 30, 8, 0)


def approved(desk: Desk) -> Dossier:
    return services.dossier_approve(
        actor=desk.agency_leader, dossier=desk.in_processing(T0), result_summary="Giấy khai sinh"
    )


def transferred(desk: Desk) -> Dossier:
    return services.dossier_transfer(
        actor=desk.specialist,
        dossier=desk.in_processing(T0),
        to_agency=desk.world.department_agency,
        reason="Xin ý kiến",
    )


def suspended(desk: Desk) -> Dossier:
    return services.dossier_suspend(
        actor=desk.agency_leader, dossier=desk.in_processing(T0), reason="Chờ xác minh"
    )


def supplement_requested(desk: Desk) -> Dossier:
    return services.dossier_request_supplement(
        actor=desk.specialist, dossier=desk.in_processing(T0), reason="Thiếu giấy tờ"
    )


@dataclass
class Case:
    """How to reach a state where `action` is allowed, who may take it, and with what."""

    action: str
    setup: Callable[[Desk], Dossier]
    actor: Callable[[Desk], User | None]
    call: Callable[..., Dossier]
    kwargs: Callable[[Desk], dict[str, Any]]
    expected: str
    other_agency_actor_roles: tuple[str, ...] = ()
    wrong_role: Callable[[Desk], User] = lambda d: d.world.citizen


CASES = [
    Case(
        Action.RECEIVE,
        lambda d: d.submit(T0),
        lambda d: d.desk,
        services.dossier_receive,
        lambda d: {},
        Status.RECEIVED,
        (Role.DESK_OFFICER,),
        lambda d: d.specialist,
    ),
    Case(
        Action.REFUSE,
        lambda d: d.submit(T0),
        lambda d: d.desk,
        services.dossier_refuse,
        lambda d: {"reason": "Không thuộc thẩm quyền"},
        Status.REFUSED,
        (Role.DESK_OFFICER,),
        lambda d: d.agency_leader,
    ),
    Case(
        Action.REQUEST_SUPPLEMENT,
        lambda d: d.received(T0),
        lambda d: d.desk,
        services.dossier_request_supplement,
        lambda d: {"reason": "Thiếu giấy chứng sinh"},
        Status.SUPPLEMENT_REQUESTED,
        (Role.DESK_OFFICER,),
        lambda d: d.world.citizen,
    ),
    Case(
        Action.SUPPLEMENT,
        supplement_requested,
        lambda d: d.desk,
        services.dossier_supplement,
        lambda d: {},
        Status.IN_PROCESSING,
        (Role.DESK_OFFICER,),
        lambda d: d.specialist,
    ),
    Case(
        Action.ASSIGN,
        lambda d: d.received(T0),
        lambda d: d.department_leader,
        services.dossier_assign,
        lambda d: {"department": d.department, "assignee": d.specialist},
        Status.IN_PROCESSING,
        (Role.DEPARTMENT_LEADER,),
        lambda d: d.specialist,
    ),
    Case(
        Action.FORWARD,
        lambda d: d.in_processing(T0),
        lambda d: d.specialist,
        services.dossier_forward,
        lambda d: {"assignee": d.agency_leader},
        Status.IN_PROCESSING,
        (Role.SPECIALIST, Role.DEPARTMENT_LEADER),
        lambda d: d.desk,
    ),
    Case(
        Action.TRANSFER,
        lambda d: d.in_processing(T0),
        lambda d: d.specialist,
        services.dossier_transfer,
        lambda d: {"to_agency": d.world.department_agency, "reason": "Xin ý kiến"},
        Status.TRANSFERRED,
        (Role.SPECIALIST,),
        lambda d: d.desk,
    ),
    Case(
        Action.TRANSFER_RETURN,
        transferred,
        lambda d: d.world.specialist_dept,
        services.dossier_transfer_return,
        lambda d: {},
        Status.IN_PROCESSING,
        (Role.SPECIALIST,),
        lambda d: d.desk,
    ),
    Case(
        Action.SUSPEND,
        lambda d: d.in_processing(T0),
        lambda d: d.agency_leader,
        services.dossier_suspend,
        lambda d: {"reason": "Chờ kết quả xác minh"},
        Status.SUSPENDED,
        (Role.AGENCY_LEADER,),
        lambda d: d.specialist,
    ),
    Case(
        Action.RESUME,
        suspended,
        lambda d: d.agency_leader,
        services.dossier_resume,
        lambda d: {},
        Status.IN_PROCESSING,
        (Role.AGENCY_LEADER,),
        lambda d: d.specialist,
    ),
    Case(
        Action.APOLOGIZE,
        lambda d: d.in_processing(T0),
        lambda d: d.agency_leader,
        services.dossier_apologize,
        lambda d: {"new_due_at": vn(2026, 12, 10, 17, 0), "reason": "Cần thêm thời gian"},
        Status.IN_PROCESSING,
        (Role.AGENCY_LEADER,),
        lambda d: d.specialist,
    ),
    Case(
        Action.APPROVE,
        lambda d: d.in_processing(T0),
        lambda d: d.agency_leader,
        services.dossier_approve,
        lambda d: {"result_summary": "Giấy khai sinh"},
        Status.APPROVED,
        (Role.AGENCY_LEADER,),
        lambda d: d.specialist,
    ),
    Case(
        Action.REJECT,
        lambda d: d.in_processing(T0),
        lambda d: d.department_leader,
        services.dossier_reject,
        lambda d: {"reason": "Không đủ điều kiện"},
        Status.REJECTED,
        (Role.DEPARTMENT_LEADER,),
        lambda d: d.desk,
    ),
    Case(
        Action.RETURN_RESULT,
        approved,
        lambda d: d.desk,
        services.dossier_return_result,
        lambda d: {"method": "desk"},
        Status.DONE,
        (Role.DESK_OFFICER,),
        lambda d: d.agency_leader,
    ),
    Case(
        Action.WITHDRAW,
        lambda d: d.in_processing(T0),
        lambda d: d.desk,
        services.dossier_withdraw,
        lambda d: {"reason": "Công dân xin rút hồ sơ"},
        Status.WITHDRAWN,
        (Role.DESK_OFFICER,),
        lambda d: d.specialist,
    ),
]
IDS = [c.action for c in CASES]


def test_every_rule_has_a_case():
    assert {c.action for c in CASES} | {Action.SEND_BACK} == set(RULES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_allowed_path_moves_the_status_and_records_the_event(desk, case):
    dossier = case.setup(desk)
    before = dossier.status
    version = Dossier.objects.get(pk=dossier.pk).version
    result = case.call(
        actor=case.actor(desk), dossier=dossier, expected_version=version, **case.kwargs(desk)
    )
    assert result.status == case.expected
    assert result.version == version + 1
    event = DossierEvent.objects.filter(dossier=dossier).order_by("-seq").first()
    assert (event.action, event.from_status, event.to_status) == (
        case.action,
        before,
        case.expected,
    )
    assert event.actor == case.actor(desk)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wrong_state_is_refused(desk, case):
    done = services.dossier_return_result(actor=desk.desk, dossier=approved(desk))
    with pytest.raises(IllegalTransition):
        case.call(actor=case.actor(desk), dossier=done, **case.kwargs(desk))
    assert Dossier.objects.get(pk=done.pk).status == Status.DONE


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wrong_role_is_refused(desk, case):
    dossier = case.setup(desk)
    with pytest.raises(OutOfScope):
        case.call(actor=case.wrong_role(desk), dossier=dossier, **case.kwargs(desk))
    assert Dossier.objects.get(pk=dossier.pk).status == dossier.status


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_official_of_another_commune_is_refused(desk, case):
    dossier = case.setup(desk)
    outsider = core_services.official_save(
        actor=None,
        username=f"b.{case.action}",
        full_name="Cán bộ phường Linh Sơn",
        agency=desk.world.agency_b,
        roles=case.other_agency_actor_roles,
    )
    with pytest.raises(OutOfScope):
        case.call(actor=outsider, dossier=dossier, **case.kwargs(desk))


@pytest.mark.parametrize("case", [c for c in CASES if RULES[c.action].needs_reason], ids=str)
def test_missing_reason_is_refused(desk, case):
    dossier = case.setup(desk)
    kwargs = {**case.kwargs(desk), "reason": "   "}
    with pytest.raises(ValidationFailed):
        case.call(actor=case.actor(desk), dossier=dossier, **kwargs)


def test_send_back_returns_to_the_previous_step_with_a_reason(desk):
    dossier = services.dossier_forward(actor=desk.specialist, dossier=desk.in_processing(T0))
    assert dossier.current_step.name == "Phê duyệt"
    with pytest.raises(ValidationFailed):
        services.dossier_send_back(actor=desk.agency_leader, dossier=dossier, reason="")
    dossier = services.dossier_send_back(
        actor=desk.agency_leader, dossier=dossier, reason="Bổ sung ý kiến thẩm định"
    )
    assert dossier.current_step.name == "Thẩm định"
    with pytest.raises(IllegalTransition):
        services.dossier_send_back(actor=desk.agency_leader, dossier=dossier, reason="Lần nữa")


def test_forward_past_the_last_step_is_refused(desk):
    dossier = services.dossier_forward(actor=desk.specialist, dossier=desk.in_processing(T0))
    with pytest.raises(IllegalTransition):
        services.dossier_forward(actor=desk.agency_leader, dossier=dossier)


def test_a_specialist_cannot_move_a_dossier_assigned_to_a_colleague(desk):
    dossier = desk.in_processing(T0)
    with pytest.raises(OutOfScope):
        services.dossier_forward(actor=desk.other_specialist, dossier=dossier)


def test_the_applicant_withdraws_their_own_dossier_but_not_anothers(desk, world):
    mine = desk.submit(T0, owner=world.citizen)
    other = desk.submit(T0)
    services.dossier_withdraw(actor=world.citizen, dossier=mine, reason="Không còn nhu cầu")
    with pytest.raises(OutOfScope):
        services.dossier_withdraw(actor=world.citizen, dossier=other, reason="x")


def test_a_stale_version_gets_a_conflict_and_changes_nothing(desk):
    dossier = desk.in_processing(T0)
    stale = dossier.version
    services.dossier_forward(actor=desk.specialist, dossier=dossier, expected_version=stale)
    with pytest.raises(Conflict):
        services.dossier_approve(actor=desk.agency_leader, dossier=dossier, expected_version=stale)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROCESSING


def test_events_cannot_be_changed_or_deleted(desk):
    from tinhso.core.errors import ImmutableRecord

    event = DossierEvent.objects.filter(dossier=desk.received(T0)).first()
    with pytest.raises(ImmutableRecord):
        event.save()
    with pytest.raises(ImmutableRecord):
        DossierEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(ImmutableRecord):
        DossierEvent.objects.filter(pk=event.pk).delete()


def test_hooks_fire_after_commit_only(desk, django_capture_on_commit_callbacks):
    seen: list[int] = []
    hooks.register(seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            dossier = desk.received(T0)
        assert len(seen) == 2  # submit and receive
        seen.clear()
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(IllegalTransition):
            services.dossier_receive(actor=desk.desk, dossier=dossier)
        assert seen == []
    finally:
        hooks.unregister(seen.append)


def test_dossier_codes_are_sequential_per_agency_and_day(desk, world):
    first = desk.submit(vn(2026, 11, 30, 8, 0))
    second = desk.submit(vn(2026, 11, 30, 9, 0))
    other_agency = desk.submit(vn(2026, 11, 30, 9, 0), agency=world.agency_b)
    next_day = desk.submit(vn(2026, 12, 1, 8, 0))
    assert first.code == "000.00.21.H55-261130-0001"
    assert second.code == "000.00.21.H55-261130-0002"
    assert other_agency.code == "000.00.22.H55-261130-0001"
    assert next_day.code == "000.00.21.H55-261201-0001"


def test_desk_reception_for_a_walk_in_applicant(desk):
    dossier = services.dossier_receive_at_desk(
        actor=desk.desk, procedure=desk.procedure, applicant=desk.applicant, at=T0
    )
    assert dossier.status == Status.RECEIVED and dossier.channel == "desk"
    assert list(dossier.events.values_list("action", flat=True)) == ["submit", "receive"]


def test_a_desk_officer_cannot_take_in_dossiers_for_another_agency(desk, world):
    with pytest.raises(OutOfScope):
        services.dossier_submit(
            actor=desk.desk,
            procedure=desk.procedure,
            agency=world.agency_b,
            channel="desk",
            applicant=desk.applicant,
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [("id_number", "12345"), ("name", " "), ("phone", "abc")],
)
def test_bad_applicant_data_is_refused_with_the_field_named(desk, field, value):
    from dataclasses import replace

    applicant = replace(desk.applicant, **{field: value})
    with pytest.raises(ValidationFailed) as error:
        services.dossier_submit(
            actor=None,
            procedure=desk.procedure,
            agency=desk.world.agency_a,
            channel="online",
            applicant=applicant,
        )
    assert field in error.value.details["fields"]
    assert not Dossier.objects.exists()


def test_the_history_says_who_got_the_dossier_and_what_was_approved(desk):
    dossier = services.dossier_forward(
        actor=desk.specialist, dossier=desk.in_processing(T0), assignee=desk.agency_leader
    )
    dossier = services.dossier_approve(
        actor=desk.agency_leader, dossier=dossier, result_summary="Giấy khai sinh bản chính"
    )
    forward = dossier.events.get(action=Action.FORWARD)
    approve = dossier.events.get(action=Action.APPROVE)
    assert forward.data["assignee"] == str(desk.agency_leader)
    assert approve.data["result_summary"] == "Giấy khai sinh bản chính"
