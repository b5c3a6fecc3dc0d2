"""Scenarios for the operations centre, built through the real dossier services with explicit
times, on the dossier personas (`desk`: agency A's one-stop desk, a 3-working-day birth
registration with a four-step workflow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from django.core.files.base import ContentFile

from tinhso.dossiers import services
from tinhso.dossiers.models import Dossier
from tinhso.dossiers.services import SubmittedDocument
from tinhso.dossiers.tests.conftest import Desk, desk, vn  # noqa: F401
from tinhso.ioc import selectors
from tinhso.ioc.periods import Period
from tinhso.ioc.scopes import Scope, ScopeKind, resolve_for_system

#: March 2026: Monday 2 March 07:30 is a working-day opening; no holiday that month.
MON = vn(2026, 3, 2, 7, 30)
MARCH = Period.month(2026, 3)
#: A moment well after March, when March's open dossiers are judged at its end.
APRIL_10 = vn(2026, 4, 10, 9, 0)


def a_file(name: str = "scan.pdf") -> ContentFile:
    return ContentFile(b"%PDF-1.4 test " + name.encode(), name=name)


@dataclass
class Ops:
    """Short hands for the desk's steps, each at an explicit time."""

    desk: Desk

    @property
    def world(self):
        return self.desk.world

    def submit(self, at: datetime, **kwargs) -> Dossier:
        return self.desk.submit(at, **kwargs)

    def receive(self, at: datetime, **kwargs) -> Dossier:
        dossier = kwargs.pop("dossier", None) or self.submit(at, **kwargs)
        return services.dossier_receive(actor=self.desk.desk, dossier=dossier, at=at)

    def process(self, at: datetime, **kwargs) -> Dossier:
        dossier = self.receive(at, **kwargs)
        return services.dossier_assign(
            actor=self.desk.department_leader,
            dossier=dossier,
            department=self.desk.department,
            assignee=self.desk.specialist,
            at=at,
        )

    def approve(self, dossier: Dossier, at: datetime, result: bool = False) -> Dossier:
        return services.dossier_approve(
            actor=self.desk.agency_leader,
            dossier=dossier,
            result_file=a_file("result.pdf") if result else None,
            at=at,
        )

    def reject(self, dossier: Dossier, at: datetime) -> Dossier:
        return services.dossier_reject(
            actor=self.desk.agency_leader, dossier=dossier, reason="Không đủ điều kiện", at=at
        )

    def give_back(self, dossier: Dossier, at: datetime) -> Dossier:
        return services.dossier_return_result(actor=self.desk.desk, dossier=dossier, at=at)

    def done(
        self,
        received: datetime,
        ended: datetime,
        returned: datetime | None = None,
        *,
        result: bool = False,
        reject: bool = False,
        **kwargs,
    ) -> Dossier:
        """Received at `received`, approved (or rejected) at `ended`, returned at `returned`
        (default: when it ended)."""
        dossier = self.process(received, **kwargs)
        dossier = self.reject(dossier, ended) if reject else self.approve(dossier, ended, result)
        return self.give_back(dossier, returned or ended)

    def request_supplement(self, dossier: Dossier, at: datetime) -> Dossier:
        return services.dossier_request_supplement(
            actor=self.desk.desk, dossier=dossier, reason="Thiếu giấy chứng sinh", at=at
        )

    def supplement(self, dossier: Dossier, at: datetime) -> Dossier:
        return services.dossier_supplement(actor=None, dossier=dossier, at=at)

    def withdraw(self, dossier: Dossier, at: datetime) -> Dossier:
        return services.dossier_withdraw(
            actor=self.desk.desk, dossier=dossier, reason="Người nộp rút hồ sơ", at=at
        )

    def refuse(self, dossier: Dossier, at: datetime) -> Dossier:
        return services.dossier_refuse(
            actor=self.desk.desk, dossier=dossier, reason="Sai thẩm quyền", at=at
        )

    def documents(self, *names: str) -> list[SubmittedDocument]:
        return [SubmittedDocument(name=n, file=a_file(f"{n}.pdf")) for n in names]

    # --- reading -----------------------------------------------------------------------------

    def value(
        self,
        code: str,
        period: Period = MARCH,
        scope: Scope | None = None,
        at: datetime = APRIL_10,
    ):
        resolved = resolve_for_system(scope or Scope(ScopeKind.AGENCY, self.world.agency_a.pk))
        return selectors.compute(code, resolved, period, at=at).value

    def behind(
        self,
        code: str,
        period: Period = MARCH,
        scope: Scope | None = None,
        at: datetime = APRIL_10,
    ):
        resolved = resolve_for_system(scope or Scope(ScopeKind.AGENCY, self.world.agency_a.pk))
        return selectors.dossiers_behind(code, resolved, period, at=at)


@pytest.fixture
def ops(desk) -> Ops:  # noqa: F811
    return Ops(desk)


@pytest.fixture
def march(ops: Ops) -> dict[str, Dossier]:
    """Done in March: 4 on time (early, same day, exact deadline, after a paused clock), 1 late;
    1 withdrawn after reception on time; open at the end of March: 2 within the deadline
    (received on the 31st; waiting for a supplement), 2 late (overdue; an apology)."""
    ops.done(MON, vn(2026, 3, 3, 10, 0))
    ops.done(MON, vn(2026, 3, 4, 8, 0))
    ops.done(MON, vn(2026, 3, 4, 17, 0), channel="desk")
    ops.done(MON, vn(2026, 3, 4, 17, 0, 1))
    paused = ops.request_supplement(ops.receive(MON), vn(2026, 3, 2, 11, 30))
    paused = services.dossier_assign(
        actor=ops.desk.department_leader,
        dossier=ops.supplement(paused, vn(2026, 3, 5, 7, 30)),
        department=ops.desk.department,
        at=vn(2026, 3, 5, 7, 30),
    )
    ops.give_back(ops.approve(paused, vn(2026, 3, 6, 15, 0)), vn(2026, 3, 6, 15, 0))
    ops.withdraw(ops.receive(MON), vn(2026, 3, 3, 9, 0))
    overdue = ops.process(vn(2026, 3, 23, 7, 30))  # due Wednesday 25 March 17:00
    within = ops.process(vn(2026, 3, 31, 7, 30))  # due Thursday 2 April 17:00
    waiting = ops.request_supplement(ops.receive(vn(2026, 3, 23, 7, 30)), vn(2026, 3, 23, 8, 30))
    apologised = services.dossier_apologize(
        actor=ops.desk.agency_leader,
        dossier=ops.process(MON),
        new_due_at=vn(2026, 4, 30, 17, 0),
        reason="Cần xác minh thêm",
        at=vn(2026, 3, 4, 10, 0),
    )
    return {"overdue": overdue, "within": within, "waiting": waiting, "apologised": apologised}
