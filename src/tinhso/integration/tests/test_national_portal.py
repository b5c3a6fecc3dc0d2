"""The national public-service portal: every dossier event becomes one outbox message in the
transition's transaction, mapped to our JSON, delivered in order to the simulator, which
stores exactly what was sent."""

from __future__ import annotations

import json

import pytest

from tinhso.catalog.models import FeeCase
from tinhso.dossiers import hooks, services
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.states import Status
from tinhso.dossiers.tests import conftest as dossier_fixtures
from tinhso.dossiers.tests.conftest import Desk, vn
from tinhso.integration import outbox, simulators
from tinhso.integration.adapters import national_portal
from tinhso.integration.models import MessageState, OutboxMessage, SimulatorRecord

desk = dossier_fixtures.desk  # the dossier personas, shared
T0 = vn(2026, 11, 30, 8, 0)


@pytest.fixture
def portal():
    """Requests to the portal go to the simulator through the test client."""
    previous = national_portal.set_transport(simulators.in_process_transport)
    outbox.rng.seed(7)
    yield
    national_portal.set_transport(previous)


def journey(desk: Desk) -> Dossier:
    """Submit, receive, assign, forward, approve, return: six events."""
    dossier = desk.in_processing(T0)
    dossier = services.dossier_forward(actor=desk.specialist, dossier=dossier, at=T0)
    dossier = services.dossier_approve(
        actor=desk.agency_leader, dossier=dossier, result_summary="Giấy khai sinh", at=T0
    )
    return services.dossier_return_result(actor=desk.desk, dossier=dossier, at=T0)


def messages_of(dossier: Dossier) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(ordering_key=f"dossier:{dossier.code}"))


def test_a_submission_enqueues_dongbohosomc_with_the_dossier(desk):
    FeeCase.objects.create(procedure=desk.procedure, description="Đăng ký đúng hạn", amount=0)
    FeeCase.objects.create(procedure=desk.procedure, description="Đăng ký quá hạn", amount=5000)
    dossier = desk.submit(T0, documents=[services.SubmittedDocument(name="Tờ khai")])
    [message] = messages_of(dossier)
    assert message.adapter == "national_portal"
    assert message.topic == "dossier.created"
    assert message.idempotency_key == f"national_portal:{dossier.code}:1"
    assert message.state == MessageState.PENDING
    payload = message.payload
    assert payload["service"] == "DongBoHoSoMC"
    assert payload["seq"] == 1
    d = payload["dossier"]
    assert d["code"] == dossier.code
    assert d["procedure"] == {"code": "1.001193", "name": "Đăng ký khai sinh"}
    assert d["agency"]["code"] == desk.world.agency_a.code
    assert d["owner"]["name"] == "Nguyễn Văn An"
    assert d["owner"]["id_number"] == "019090000123"
    assert d["submitted_at"] == T0.isoformat()
    assert d["received_at"] is None and d["appointment_at"] is None
    assert d["status"] == Status.SUBMITTED
    assert [doc["name"] for doc in d["documents"]] == ["Tờ khai"]
    assert d["fees"] == [
        {"description": "Đăng ký đúng hạn", "amount": 0},
        {"description": "Đăng ký quá hạn", "amount": 5000},
    ]
    json.dumps(payload)  # plain JSON, nothing left for an encoder


def test_every_transition_produces_one_message_in_order(desk):
    dossier = journey(desk)
    messages = messages_of(dossier)
    assert [m.payload["seq"] for m in messages] == [1, 2, 3, 4, 5, 6]
    assert [m.payload["service"] for m in messages] == ["DongBoHoSoMC"] + [
        "CapNhatTienDoHoSoMC"
    ] * 5
    progress = [m.payload["progress"] for m in messages[1:]]
    assert [p["action"] for p in progress] == [
        "receive",
        "assign",
        "forward",
        "approve",
        "return_result",
    ]
    assert [p["status"] for p in progress] == [
        Status.RECEIVED,
        Status.IN_PROCESSING,
        Status.IN_PROCESSING,
        Status.APPROVED,
        Status.DONE,
    ]
    receive = progress[0]
    assert receive["actor_label"].startswith("desk.a")
    assert receive["step_title"] == "Tiếp nhận hồ sơ"
    assert receive["at"] == T0.isoformat()
    assert receive["agency"]["code"] == desk.world.agency_a.code
    assert receive["step_started_at"] == T0.isoformat()
    assert receive["step_due_at"] is not None
    assert receive["appointment_at"] is not None
    assert progress[2]["step_title"] == "Phê duyệt"
    assert progress[2]["department"] == desk.department.name


def test_a_transition_that_fails_after_the_outbox_hook_leaves_no_status_and_no_message(desk):
    dossier = desk.submit(T0)

    def explode(event):
        raise RuntimeError("a later step of the transaction fails")

    hooks.register_in_transaction(explode)
    try:
        with pytest.raises(RuntimeError):
            services.dossier_receive(actor=desk.desk, dossier=dossier, at=T0)
        with pytest.raises(RuntimeError):
            desk.submit(T0)
    finally:
        hooks.unregister_in_transaction(explode)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SUBMITTED
    assert Dossier.objects.count() == 1
    assert [m.payload["seq"] for m in messages_of(dossier)] == [1]
    assert OutboxMessage.objects.count() == 1


def test_the_simulator_stores_exactly_what_was_sent(desk, portal):
    dossier = journey(desk)
    outbox.deliver_due(worker="t", now=T0)
    messages = messages_of(dossier)
    assert len(messages) == 6
    assert {m.state for m in messages} == {MessageState.DELIVERED}
    records = SimulatorRecord.objects.filter(simulator="national_portal")
    assert [r.payload for r in records] == [m.payload for m in messages]
    assert [r.idempotency_key for r in records] == [m.idempotency_key for m in messages]


def test_trachuuhoso_returns_the_dossier_and_its_progress(desk, portal, client):
    dossier = journey(desk)
    outbox.deliver_due(worker="t", now=T0)
    answer = client.get("/sim/national-portal/TraCuuHoSo", {"code": dossier.code}).json()
    assert answer["dossier"]["code"] == dossier.code
    assert [p["seq"] for p in answer["progress"]] == [2, 3, 4, 5, 6]
    assert client.get("/sim/national-portal/TraCuuHoSo", {"code": "nope"}).status_code == 404


def test_a_repeat_is_answered_409_and_stored_once(desk, client):
    body = {"service": "DongBoTTHC", "procedure": {"code": "1.001193"}}
    headers = {"Idempotency-Key": "k-1"}
    first = client.post(
        "/sim/national-portal/DongBoTTHC", body, "application/json", headers=headers
    )
    again = client.post(
        "/sim/national-portal/DongBoTTHC", body, "application/json", headers=headers
    )
    assert (first.status_code, again.status_code) == (200, 409)
    assert SimulatorRecord.objects.count() == 1


def test_the_simulator_refuses_what_is_not_our_json(db, client):
    assert (
        client.post("/sim/national-portal/DongBoHoSoMC", "x", "application/json").status_code == 400
    )
    assert (
        client.post(
            "/sim/national-portal/DongBoHoSoMC", {"service": "DongBoHoSoMC"}, "application/json"
        ).status_code
        == 400
    )
    assert client.post("/sim/national-portal/Nope", {}, "application/json").status_code == 404
    assert SimulatorRecord.objects.count() == 0


def test_the_catalog_is_pushed_once_per_version(desk, portal):
    FeeCase.objects.create(procedure=desk.procedure, description="Lệ phí", amount=8000)
    assert national_portal.push_catalog() == 1
    assert national_portal.push_catalog() == 0
    [message] = OutboxMessage.objects.filter(topic="catalog")
    procedure = message.payload["procedure"]
    assert message.payload["service"] == "DongBoTTHC"
    assert procedure["code"] == "1.001193"
    assert procedure["fees"] == [{"description": "Lệ phí", "amount": 8000}]
    assert outbox.deliver_due(worker="t") == 1
    assert SimulatorRecord.objects.get(service="DongBoTTHC").payload == message.payload


def test_only_an_administrator_pushes_the_catalog(desk):
    from tinhso.core.errors import OutOfScope

    with pytest.raises(OutOfScope):
        national_portal.push_catalog(actor=desk.desk)
    assert national_portal.push_catalog(actor=desk.world.administrator) == 1


def test_the_simulators_are_not_mounted_when_turned_off(db, client, settings):
    from django.urls import NoReverseMatch, clear_url_caches, reverse

    import tinhso.urls

    settings.TINHSO_SIMULATORS = False
    clear_url_caches()
    import importlib

    importlib.reload(tinhso.urls)
    try:
        with pytest.raises(NoReverseMatch):
            reverse("sim:national_portal:lookup")
    finally:
        settings.TINHSO_SIMULATORS = True
        importlib.reload(tinhso.urls)
        clear_url_caches()
    assert reverse("sim:national_portal:lookup") == "/sim/national-portal/TraCuuHoSo"


def test_http_errors_map_to_retryable_or_not(db, settings):
    message = OutboxMessage(
        idempotency_key="k", payload={"service": "DongBoHoSoMC"}, adapter="national_portal"
    )
    for status, retryable in [(500, True), (503, True), (429, True), (400, False), (404, False)]:
        national_portal.set_transport(lambda *a, status=status: (status, b"{}"))
        try:
            with pytest.raises(outbox.DeliveryFailed) as failed:
                national_portal.deliver(message)
        finally:
            national_portal.set_transport(None)
        assert failed.value.retryable is retryable, status
    for status in (200, 201, 409):
        national_portal.set_transport(lambda *a, status=status: (status, b"{}"))
        try:
            national_portal.deliver(message)
        finally:
            national_portal.set_transport(None)

    def refused(*args):
        raise ConnectionRefusedError("refused")

    national_portal.set_transport(refused)
    try:
        with pytest.raises(outbox.DeliveryFailed) as failed:
            national_portal.deliver(message)
    finally:
        national_portal.set_transport(None)
    assert failed.value.retryable


def test_the_http_transport_sends_json_with_the_idempotency_key(db, settings):
    """The real transport against a one-request local HTTP server."""
    import http.server
    import threading

    seen: dict = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen["path"] = self.path
            seen["key"] = self.headers["Idempotency-Key"]
            seen["body"] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    settings.TINHSO_NATIONAL_PORTAL_URL = f"http://127.0.0.1:{server.server_port}/portal/"
    message = OutboxMessage(
        idempotency_key="national_portal:X:1", payload={"service": "DongBoHoSoMC", "a": "ồ"}
    )
    national_portal.deliver(message)
    thread.join(5)
    server.server_close()
    assert seen == {
        "path": "/portal/DongBoHoSoMC",
        "key": "national_portal:X:1",
        "body": {"service": "DongBoHoSoMC", "a": "ồ"},
    }


def test_a_refused_connection_is_retryable(db, settings):
    settings.TINHSO_NATIONAL_PORTAL_URL = "http://127.0.0.1:9/portal"
    message = OutboxMessage(idempotency_key="k", payload={"service": "DongBoHoSoMC"})
    with pytest.raises(outbox.DeliveryFailed) as failed:
        national_portal.deliver(message)
    assert failed.value.retryable


def test_push_catalog_command_queues_each_changed_procedure_once(desk):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("outbox", "push-catalog", stdout=out)
    assert out.getvalue().strip() == "queued: 1"
    out = StringIO()
    call_command("outbox", "push-catalog", stdout=out)
    assert out.getvalue().strip() == "queued: 0"
