"""Alert rules and alerts: one breach raises one alert (and one e-mail per recipient), a
lasting breach raises nothing more, recovery resolves it, a new breach raises anew; the
fan-out per agency, the unique constraint, the trail, the permissions, the dossier hook and
the scheduled job. Scenarios through the real dossier services at explicit times."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tinhso.core import schedule
from tinhso.core import services as core_services
from tinhso.core.errors import IllegalTransition, OutOfScope, ValidationFailed
from tinhso.core.models import AuditRecord, Role
from tinhso.dossiers import services
from tinhso.dossiers.models import DossierEvent
from tinhso.integration.models import OutboxMessage
from tinhso.ioc import alert_services, alerts
from tinhso.ioc.alerts import Result, is_breached
from tinhso.ioc.models import Alert, AlertEvent, AlertRule, AlertState
from tinhso.ioc.services import target_set

from .conftest import MON, vn

#: Received Monday 2 March 07:30, a 3-working-day procedure is due Wednesday 4 March 17:00.
AFTER_DEADLINE = vn(2026, 3, 5, 9, 0)


@pytest.fixture(autouse=True)
def _quiet(db):
    """Only the rules a test makes are evaluated; the per-process throttle starts empty."""
    AlertRule.objects.update(is_active=False)
    alerts.reset_throttle()
    yield
    alerts.reset_throttle()


def a_rule(**overrides) -> AlertRule:
    fields = {
        "name": "Hồ sơ quá hạn",
        "indicator": "overdue_open",
        "scope_kind": "agency",
        "scope_id": None,
        "comparison": "gt",
        "threshold": Decimal("0"),
        "window_days": 0,
        "severity": "warning",
        **overrides,
    }
    recipients = fields.pop("recipients", [])
    rule = AlertRule.objects.create(**fields)
    rule.recipients.set(recipients)
    return rule


def alert_mail() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic="ioc.alert").order_by("pk"))


# --- the pure comparison ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "comparison", "threshold", "breached"),
    [
        ("94.99", "lt", "95", True),
        ("95", "lt", "95", False),
        ("95", "le", "95", True),
        ("95.01", "le", "95", False),
        ("1", "gt", "0", True),
        ("0", "gt", "0", False),
        ("0", "ge", "0", True),
        ("-0.01", "ge", "0", False),
    ],
)
def test_is_breached_compares_on_the_alerting_side(value, comparison, threshold, breached):
    assert is_breached(Decimal(value), comparison, Decimal(threshold)) is breached


def test_an_unknown_comparison_is_an_error():
    with pytest.raises(ValueError):
        is_breached(Decimal(1), "eq", Decimal(1))


# --- raise, still breached, recover, raise again ------------------------------------------------


def test_a_breach_raises_one_alert_and_one_mail_per_recipient(ops):
    world = ops.world
    leader = world.provincial_leader
    leader.email = "lanhdao@thainguyen.gov.vn"
    leader.save(update_fields=["email"])
    rule = a_rule(
        scope_id=world.agency_a.pk,
        recipients=[leader],
        emails="ioc@thainguyen.gov.vn\nLANHDAO@thainguyen.gov.vn",
    )
    dossier = ops.process(MON)

    outcomes = alerts.evaluate_rule(rule, now=AFTER_DEADLINE)

    assert [o.result for o in outcomes] == [Result.RAISED]
    alert = Alert.objects.get()
    assert alert.state == AlertState.OPEN
    assert (alert.scope_kind, alert.scope_id) == ("agency", world.agency_a.pk)
    assert alert.value == Decimal("1") and alert.threshold == Decimal("0")
    assert alert.scope_label == world.agency_a.name and alert.agency_id == world.agency_a.pk
    assert list(alert.events.values_list("action", "to_state")) == [("raised", "open")]
    mails = alert_mail()
    assert [m.payload["to"] for m in mails] == [
        "lanhdao@thainguyen.gov.vn",
        "ioc@thainguyen.gov.vn",
    ]
    assert {m.idempotency_key for m in mails} == {
        f"alert:{alert.pk}:lanhdao@thainguyen.gov.vn",
        f"alert:{alert.pk}:ioc@thainguyen.gov.vn",
    }
    body = mails[0].payload["body"]
    assert world.agency_a.name in body and f"/ioc/alerts/{alert.pk}/" in body
    assert "Giá trị: 1 — ngưỡng cảnh báo: trên 0" in body
    assert mails[0].payload["subject"].startswith("[Tỉnh Số] Cảnh báo: Hồ sơ quá hạn")

    # Still breached a day later: no new alert, no new message, the last value moves.
    second = ops.process(MON)
    later = vn(2026, 3, 6, 9, 0)
    assert [o.result for o in alerts.evaluate_rule(rule, now=later)] == [Result.STILL_BREACHED]
    alert.refresh_from_db()
    assert Alert.objects.count() == 1 and len(alert_mail()) == 2
    assert alert.last_value == Decimal("2") and alert.last_evaluated_at == later
    assert alert.events.count() == 1

    # Recovery: both dossiers done (late), nothing open overdue: resolved by the system.
    for each in (dossier, second):
        ops.give_back(ops.approve(each, vn(2026, 3, 9, 8, 0)), vn(2026, 3, 9, 8, 0))
    recovered_at = vn(2026, 3, 9, 9, 0)
    assert [o.result for o in alerts.evaluate_rule(rule, now=recovered_at)] == [Result.RECOVERED]
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    assert alert.resolved_by is None and alert.resolved_at == recovered_at
    assert list(alert.events.values_list("action", "from_state", "to_state", "actor")) == [
        ("raised", "", "open", None),
        ("recovered", "open", "resolved", None),
    ]
    assert alerts.evaluate_rule(rule, now=recovered_at)[0].result == Result.OK

    # A breach after the recovery is a new alert, with its own mails.
    ops.process(vn(2026, 3, 9, 7, 30))  # due Wednesday 11 March 17:00
    again = alerts.evaluate_rule(rule, now=vn(2026, 3, 12, 9, 0))
    assert [o.result for o in again] == [Result.RAISED]
    assert Alert.objects.count() == 2
    assert Alert.objects.filter(state=AlertState.OPEN).get().pk == again[0].alert_id
    assert len(alert_mail()) == 4


def test_no_data_changes_nothing(ops):
    rule = a_rule(
        indicator="on_time_rate",
        scope_kind="province",
        comparison="lt",
        threshold=95,
        window_days=30,
    )
    outcomes = alerts.evaluate_rule(rule, now=AFTER_DEADLINE)
    assert [o.result for o in outcomes] == [Result.NO_DATA]
    assert not Alert.objects.exists() and not alert_mail()


def test_a_rate_over_a_window_raises_then_recovers_as_the_window_moves(ops):
    rule = a_rule(
        indicator="on_time_rate",
        scope_kind="province",
        comparison="lt",
        threshold=Decimal("95"),
        window_days=30,
    )
    ops.done(MON, vn(2026, 3, 10, 9, 0))  # late: due 4 March
    raised = alerts.evaluate_rule(rule, now=vn(2026, 3, 20, 9, 0))
    assert [(o.result, o.value) for o in raised] == [(Result.RAISED, Decimal("0.00"))]
    alert = Alert.objects.get()
    assert alert.scope_kind == "province" and alert.scope_id == ops.world.province.pk
    assert alert.agency_id is None and alert.unit_path == ops.world.province.path
    ops.done(vn(2026, 4, 20, 7, 30), vn(2026, 4, 20, 10, 0))  # on time, a month later
    recovered = alerts.evaluate_rule(rule, now=vn(2026, 4, 25, 9, 0))  # 27 March – 25 April
    assert [(o.result, o.value) for o in recovered] == [(Result.RECOVERED, Decimal("100.00"))]


def test_a_rule_for_each_agency_raises_one_alert_per_agency(ops):
    world = ops.world
    rule = a_rule()  # every agency
    ops.process(MON)
    services.dossier_receive(
        actor=world.desk_b, dossier=ops.submit(MON, agency=world.agency_b), at=MON
    )
    outcomes = alerts.evaluate_rule(rule, now=AFTER_DEADLINE)
    by_agency = {o.scope.id: o.result for o in outcomes}
    assert by_agency == {
        world.department_agency.pk: Result.OK,
        world.agency_a.pk: Result.RAISED,
        world.agency_b.pk: Result.RAISED,
    }
    assert set(Alert.objects.values_list("agency_id", flat=True)) == {
        world.agency_a.pk,
        world.agency_b.pk,
    }


def test_the_database_allows_one_unresolved_alert_per_rule_and_scope(ops):
    rule = a_rule(scope_id=ops.world.agency_a.pk)
    ops.process(MON)
    alerts.evaluate_rule(rule, now=AFTER_DEADLINE)
    first = Alert.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            rule=rule,
            scope_kind=first.scope_kind,
            scope_id=first.scope_id,
            scope_label="x",
            value=1,
            threshold=0,
            last_value=1,
        )
    # Once resolved, another one may be raised.
    Alert.objects.filter(pk=first.pk).update(state=AlertState.RESOLVED)
    alerts.evaluate_rule(rule, now=AFTER_DEADLINE)
    assert Alert.objects.count() == 2


def test_a_racing_evaluator_does_not_raise_twice(ops, monkeypatch):
    """Two evaluators read "no alert" at once; the second insert meets the constraint."""
    rule = a_rule(scope_id=ops.world.agency_a.pk)
    ops.process(MON)
    alerts.evaluate_rule(rule, now=AFTER_DEADLINE)
    existing = Alert.objects.get()
    real = alerts._unresolved
    calls: list[int] = []

    def stale_first_read(*args):
        calls.append(1)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(alerts, "_unresolved", stale_first_read)
    outcome = alerts.evaluate_rule(rule, now=vn(2026, 3, 5, 10, 0))[0]
    assert outcome.result == Result.STILL_BREACHED and outcome.alert_id == existing.pk
    assert Alert.objects.count() == 1 and existing.events.count() == 1
    assert len(alert_mail()) == 0  # the losing raise's mails rolled back with it


def test_use_target_without_a_target_raises_nothing(ops):
    rule = a_rule(
        indicator="online_share",
        scope_kind="province",
        comparison="lt",
        threshold=None,
        use_target=True,
        window_days=30,
    )
    ops.receive(MON, channel="desk")
    now = vn(2026, 3, 20, 9, 0)
    assert [o.result for o in alerts.evaluate_rule(rule, now=now)] == [Result.NO_TARGET]
    assert not Alert.objects.exists()
    target_set(
        actor=None, province=ops.world.province, indicator="online_share", year=2026, value=80
    )
    raised = alerts.evaluate_rule(rule, now=now)
    assert [(o.result, o.value, o.threshold) for o in raised] == [
        (Result.RAISED, Decimal("0.00"), Decimal("80.00"))
    ]


def test_the_default_rules_are_loaded_by_the_data_migration(db):
    defaults = {r.indicator: r for r in AlertRule.objects.all()}
    assert defaults["on_time_rate"].threshold == 95 and defaults["on_time_rate"].window_days == 30
    assert defaults["overdue_open"].scope_kind == "agency" and defaults["overdue_open"].fans_out
    assert defaults["online_share"].use_target and defaults["online_share"].threshold is None
    assert all(not r.recipients.exists() and not r.emails for r in defaults.values())


# --- acknowledge and resolve --------------------------------------------------------------------


@pytest.fixture
def raised(ops) -> Alert:
    rule = a_rule(scope_id=ops.world.agency_a.pk)
    ops.process(MON)
    alerts.evaluate_rule(rule, now=AFTER_DEADLINE)
    return Alert.objects.get()


def test_an_agency_leader_acknowledges_then_resolves_with_a_trail(ops, raised):
    leader = ops.desk.agency_leader
    at = vn(2026, 3, 5, 10, 0)
    alert = alert_services.alert_acknowledge(actor=leader, alert=raised, note="Đang xử lý", at=at)
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == leader
    with pytest.raises(IllegalTransition):
        alert_services.alert_acknowledge(actor=leader, alert=alert)
    alert = alert_services.alert_resolve(actor=leader, alert=alert, note="Đã trả kết quả")
    assert alert.state == AlertState.RESOLVED and alert.resolved_by == leader
    trail = list(alert.events.values_list("action", "from_state", "to_state", "actor", "note"))
    assert trail == [
        ("raised", "", "open", None, ""),
        ("acknowledged", "open", "acknowledged", leader.pk, "Đang xử lý"),
        ("resolved", "acknowledged", "resolved", leader.pk, "Đã trả kết quả"),
    ]
    actions = set(
        AuditRecord.objects.filter(object_id=str(alert.pk), object_type__model="alert").values_list(
            "action", flat=True
        )
    )
    assert actions == {"ioc.alert.acknowledge", "ioc.alert.resolve"}
    with pytest.raises(IllegalTransition):
        alert_services.alert_resolve(actor=leader, alert=alert)


def test_a_manually_resolved_alert_still_breached_is_raised_again(ops, raised):
    alert_services.alert_resolve(actor=ops.world.provincial_leader, alert=raised, note="")
    outcome = alerts.evaluate_rule(raised.rule, now=vn(2026, 3, 5, 11, 0))[0]
    assert outcome.result == Result.RAISED and outcome.alert_id != raised.pk


def test_the_trail_cannot_be_changed(raised):
    event = AlertEvent.objects.get()
    with pytest.raises(Exception):  # noqa: B017  (ImmutableRecord, or the trigger's error)
        AlertEvent.objects.filter(pk=event.pk).update(note="x")


def test_only_those_whose_scope_covers_an_alert_handle_it(ops, raised):
    world = ops.world
    leader_b = core_services.official_save(
        actor=None,
        username="b.chairman",
        full_name="B Chairman",
        agency=world.agency_b,
        roles=[Role.AGENCY_LEADER],
    )
    for outsider in (leader_b, world.desk_a, world.specialist_dept):
        with pytest.raises(OutOfScope):
            alert_services.alert_acknowledge(actor=outsider, alert=raised)
    assert not alert_services.alerts_list(leader_b).exists()
    assert list(alert_services.alerts_list(world.desk_a)) == [raised]
    assert list(alert_services.alerts_list(world.administrator)) == [raised]
    with pytest.raises(OutOfScope):
        alert_services.alerts_list(world.citizen)
    alert_services.alert_acknowledge(actor=world.administrator, alert=raised)


# --- managing rules -----------------------------------------------------------------------------


def rule_fields(**overrides):
    return {
        "name": "Đúng hạn dưới 95 %",
        "indicator": "on_time_rate",
        "scope_kind": "province",
        "scope_id": None,
        "comparison": "lt",
        "threshold": "95",
        "window_days": 30,
        "severity": "critical",
        **overrides,
    }


def test_a_provincial_leader_creates_and_changes_a_rule(ops):
    world = ops.world
    rule = alert_services.alert_rule_save(
        actor=world.provincial_leader,
        **rule_fields(recipient_ids=[world.desk_a.pk], emails="a@x.vn, a@x.vn; b@x.vn"),
    )
    assert rule.threshold == Decimal("95.00") and rule.emails == "a@x.vn\nb@x.vn"
    assert list(rule.recipients.all()) == [world.desk_a] and rule.version == 1
    changed = alert_services.alert_rule_save(
        actor=world.administrator,
        rule=rule,
        expected_version=1,
        **rule_fields(threshold="90,5", scope_kind="agency", scope_id=world.agency_b.pk),
    )
    assert changed.threshold == Decimal("90.50") and changed.version == 2
    assert not changed.recipients.exists()
    with pytest.raises(Exception) as stale:
        alert_services.alert_rule_save(
            actor=world.administrator, rule=rule, expected_version=1, **rule_fields()
        )
    assert stale.value.code == "conflict"
    alert_services.alert_rule_deactivate(actor=world.administrator, rule=rule)
    rule.refresh_from_db()
    assert not rule.is_active
    assert list(
        AuditRecord.objects.filter(object_id=str(rule.pk), object_type__model="alertrule")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["ioc.alert_rule.create", "ioc.alert_rule.update", "ioc.alert_rule.deactivate"]


@pytest.mark.parametrize("who", ["desk_a", "specialist_dept"])
def test_officials_without_a_provincial_role_cannot_manage_rules(ops, who):
    actor = getattr(ops.world, who)
    with pytest.raises(OutOfScope):
        alert_services.alert_rule_save(actor=actor, **rule_fields())
    with pytest.raises(OutOfScope):
        alert_services.rules_list(actor)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"indicator": "nope"}, "indicator"),
        ({"indicator": "published_on_time"}, "indicator"),
        ({"scope_kind": "galaxy"}, "scope"),
        ({"scope_kind": "department"}, "scope"),
        ({"scope_kind": "agency", "scope_id": 999999}, "scope"),
        ({"indicator": "online_share", "scope_kind": "official", "scope_id": 1}, "scope"),
        ({"comparison": "eq"}, "comparison"),
        ({"threshold": "abc"}, "threshold"),
        ({"threshold": "101"}, "threshold"),
        ({"threshold": ""}, "threshold"),
        ({"window_days": 400}, "window_days"),
        ({"severity": "panic"}, "severity"),
        ({"emails": "not-an-address"}, "emails"),
        ({"recipient_ids": [999999]}, "recipients"),
    ],
)
def test_a_bad_rule_is_refused_with_the_field_named(ops, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        alert_services.alert_rule_save(actor=ops.world.administrator, **rule_fields(**overrides))
    assert refused.value.details["field"] == field


def test_use_target_needs_no_threshold(ops):
    rule = alert_services.alert_rule_save(
        actor=None, **rule_fields(indicator="online_share", threshold="", use_target=True)
    )
    assert rule.threshold is None and rule.use_target


# --- on events and on schedule ------------------------------------------------------------------


def test_the_event_hook_raises_an_alert_when_a_dossier_is_overdue(ops):
    rule = a_rule()  # every agency
    dossier = ops.process(MON)
    event = DossierEvent.objects.filter(dossier=dossier).order_by("-seq").first()
    alerts.on_dossier_event(event.pk, now=AFTER_DEADLINE)
    alert = Alert.objects.get()
    assert alert.rule == rule and alert.agency_id == ops.world.agency_a.pk
    # Only the event's agency was evaluated, not agency B nor the provincial department.
    assert set(alerts._last_run) == {(rule.pk, f"agency:{ops.world.agency_a.pk}")}


def test_the_hook_runs_after_commit_and_is_throttled(ops, django_capture_on_commit_callbacks):
    a_rule(scope_id=ops.world.agency_a.pk)
    submitted = ops.submit(MON)
    with django_capture_on_commit_callbacks(execute=True):
        # Received in March, evaluated now (long after its deadline): overdue.
        services.dossier_receive(actor=ops.desk.desk, dossier=submitted, at=MON)
    assert Alert.objects.count() == 1
    Alert.objects.update(state=AlertState.RESOLVED)
    with django_capture_on_commit_callbacks(execute=True):
        ops.receive(MON)  # within the minute: not evaluated again
    assert Alert.objects.filter(state=AlertState.OPEN).count() == 0


def test_a_failing_evaluation_after_an_event_is_logged_not_raised(ops, monkeypatch, caplog):
    a_rule()

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(alerts, "evaluate_scope", broken)
    event = DossierEvent.objects.filter(dossier=ops.receive(MON)).first()
    alerts.on_dossier_event(event.pk)
    assert "alert evaluation after dossier event" in caplog.text


def test_evaluate_all_reads_only_active_rules(ops):
    a_rule(scope_id=ops.world.agency_a.pk, is_active=False)
    active = a_rule(scope_id=ops.world.agency_a.pk, name="active")
    ops.process(MON)
    outcomes = alerts.evaluate_all(now=AFTER_DEADLINE)
    assert [(o.rule_id, o.result) for o in outcomes] == [(active.pk, Result.RAISED)]


def test_the_scheduled_job_is_registered_every_five_minutes(ops):
    from tinhso.ioc import tasks

    job = next(j for j in schedule.jobs() if j.name == "ioc.alerts")
    assert job.task is tasks.evaluate_alerts and job.every.total_seconds() == 300
    a_rule(scope_id=ops.world.agency_a.pk)
    ops.process(MON)  # overdue by now
    assert tasks.evaluate_alerts.call() == 1


# --- pages --------------------------------------------------------------------------------------


def test_the_alerts_page_lists_open_alerts_first_with_their_actions(client, ops, raised):
    other = a_rule(scope_id=ops.world.agency_a.pk, name="Quy tắc thứ hai")
    alerts.evaluate_rule(other, now=AFTER_DEADLINE)
    alert_services.alert_resolve(
        actor=ops.world.administrator, alert=Alert.objects.get(rule=other), note=""
    )
    client.force_login(ops.desk.agency_leader)
    response = client.get("/ioc/alerts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Hồ sơ quá hạn") < html.index("Quy tắc thứ hai")
    assert f"/ioc/alerts/{raised.pk}/acknowledge/" in html
    assert f"/ioc/agency/{ops.world.agency_a.pk}/" in html
    only_resolved = client.get("/ioc/alerts/", {"state": "resolved"}).content.decode()
    assert "Quy tắc thứ hai" in only_resolved and "/acknowledge/" not in only_resolved
    assert "Hồ sơ quá hạn" not in only_resolved.split("<tbody")[-1]


def test_acknowledging_on_the_page_writes_the_trail(client, ops, raised):
    client.force_login(ops.desk.agency_leader)
    response = client.post(f"/ioc/alerts/{raised.pk}/acknowledge/", {"note": "Đã giao"})
    assert response.status_code == 302 and response["Location"] == f"/ioc/alerts/{raised.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Đã giao" in page
    raised.refresh_from_db()
    assert raised.state == AlertState.ACKNOWLEDGED


def test_pages_refuse_what_lies_beyond_the_scope(client, ops, raised):
    client.force_login(ops.world.desk_b)
    assert client.get(f"/ioc/alerts/{raised.pk}/").status_code == 404
    assert client.post(f"/ioc/alerts/{raised.pk}/resolve/").status_code == 404
    assert client.get("/ioc/alerts/rules/").status_code == 403
    assert client.get("/ioc/alerts/rules/new/").status_code == 403
    client.force_login(ops.world.citizen)
    assert client.get("/ioc/alerts/").status_code == 403


def test_a_bad_rule_form_is_shown_again_with_what_was_typed(client, ops):
    client.force_login(ops.world.administrator)
    assert client.get("/ioc/alerts/rules/new/").status_code == 200
    form = {
        "name": "Tỷ lệ đúng hạn thấp",
        "indicator": "on_time_rate",
        "scope": f"agency:{ops.world.agency_a.pk}",
        "comparison": "lt",
        "threshold": "nhiều",
        "window_days": "30",
        "severity": "critical",
        "emails": "ioc@thainguyen.gov.vn",
        "is_active": "on",
    }
    response = client.post("/ioc/alerts/rules/new/", form)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="threshold-error"' in html and 'value="nhiều"' in html
    assert "Tỷ lệ đúng hạn thấp" in html and "ioc@thainguyen.gov.vn" in html
    assert f'value="agency:{ops.world.agency_a.pk}" selected' in html
    saved = client.post("/ioc/alerts/rules/new/", {**form, "threshold": "95"})
    assert saved.status_code == 302
    rule = AlertRule.objects.get(name="Tỷ lệ đúng hạn thấp")
    assert (rule.scope_kind, rule.scope_id, rule.threshold) == (
        "agency",
        ops.world.agency_a.pk,
        Decimal("95.00"),
    )
    edit = client.get(f"/ioc/alerts/rules/{rule.pk}/").content.decode()
    assert 'value="95.00"' in edit
    listed = client.get("/ioc/alerts/rules/").content.decode()
    assert "Tỷ lệ đúng hạn thấp" in listed
    client.post(f"/ioc/alerts/rules/{rule.pk}/deactivate/")
    rule.refresh_from_db()
    assert not rule.is_active


@pytest.mark.browser
def test_an_administrator_acknowledges_an_alert_in_the_browser(
    browser_page, live_server, browser_world, ops
):
    from tinhso.browser_fixtures import save_screenshot, sign_in

    AlertRule.objects.update(is_active=False)
    rule = a_rule(severity="critical")
    ops.process(MON)
    services.dossier_receive(
        actor=ops.world.desk_b, dossier=ops.submit(MON, agency=ops.world.agency_b), at=MON
    )
    alerts.evaluate_rule(rule, now=AFTER_DEADLINE)
    rate = a_rule(
        name="Tỷ lệ đúng hạn của tỉnh dưới 95 %",
        indicator="on_time_rate",
        scope_kind="province",
        comparison="lt",
        threshold=Decimal("95"),
        window_days=30,
        severity="warning",
    )
    ops.done(MON, vn(2026, 3, 10, 9, 0))
    alerts.evaluate_rule(rate, now=vn(2026, 3, 20, 9, 0))
    page, base = browser_page, live_server.url
    sign_in(page, base, ops.world.administrator.username)
    page.goto(f"{base}/ioc/alerts/")
    assert page.locator("table.alerts-table tbody tr").count() == 3
    first = page.locator("table.alerts-table tbody tr").first
    acknowledge = first.locator("details[data-action=acknowledge]")
    acknowledge.locator("summary").click()
    acknowledge.locator("textarea").fill("Đã giao phòng chuyên môn")
    with page.expect_navigation():
        acknowledge.locator("button[type=submit]").click()
    assert Alert.objects.filter(state=AlertState.ACKNOWLEDGED).count() == 1
    save_screenshot(page, "ioc-alerts")
