"""Dossier submission and reception: how many a single process takes in per second on the
configured database (SQLite by default; set DATABASE_URL for PostgreSQL). The full-scale
numbers (millions of dossiers, 200 submissions/s across processes) are measured later; this
keeps an eye on the per-transaction cost of the engine."""

from __future__ import annotations

import os
import tempfile
import time
from decimal import Decimal

TARGET_PER_SECOND = 100.0


def run(count: int = 500) -> dict[str, float]:
    os.environ.setdefault("TINHSO_VAR_DIR", tempfile.mkdtemp(prefix="tinhso-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinhso.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from tinhso.catalog.models import FeeCase, Field, Procedure, WorkflowStep
    from tinhso.core.demo import demo_load
    from tinhso.core.models import Agency, Role, User
    from tinhso.dossiers import services

    call_command("migrate", verbosity=0)
    demo_load(dossiers=False)  # the province, agencies and officials; no demo dossiers
    field, _ = Field.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    procedure, created = Procedure.objects.get_or_create(
        code="bench.0001",
        defaults={
            "name": "Bench procedure",
            "field": field,
            "level": "commune",
            "processing_days": Decimal("5"),
            "agency_kinds": ["commune_committee"],
        },
    )
    if created:
        for position, role in enumerate(
            [Role.DESK_OFFICER, Role.SPECIALIST, Role.AGENCY_LEADER, Role.DESK_OFFICER], start=1
        ):
            WorkflowStep.objects.create(
                procedure=procedure,
                position=position,
                name=f"step {position}",
                role=role,
                share_percent=Decimal(25),
            )
        # A fee, so each submission also bills it (payments) besides the rollup (ioc).
        FeeCase.objects.create(procedure=procedure, description="Lệ phí", amount=20_000)
    agency = Agency.objects.filter(kind="commune_committee").order_by("code").first()
    desk = User.objects.filter(agency=agency, roles__role=Role.DESK_OFFICER).first()
    applicant = services.Applicant(name="Nguyễn Văn Bench", id_number="019090000001")

    start = time.perf_counter()
    for _ in range(count):
        services.dossier_submit(
            actor=None, procedure=procedure, agency=agency, channel="online", applicant=applicant
        )
    submit_rate = count / (time.perf_counter() - start)

    start = time.perf_counter()
    for _ in range(count):
        services.dossier_receive_at_desk(actor=desk, procedure=procedure, applicant=applicant)
    desk_rate = count / (time.perf_counter() - start)
    from django.db import connection

    result = {"submit_per_s": submit_rate, "desk_receive_per_s": desk_rate}
    print(
        f"dossier_submit on {connection.vendor}, one process: {submit_rate:.0f}/s "
        f"(target ≥ {TARGET_PER_SECOND:.0f})"
    )
    print(
        f"dossier_receive_at_desk (submit + receive + deadline) on {connection.vendor}: "
        f"{desk_rate:.0f}/s (target ≥ {TARGET_PER_SECOND:.0f})"
    )
    return result
