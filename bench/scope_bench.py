"""Scoped listing: every back-office list goes through `scope`; listing a page of officials
for a commune officer and for a provincial leader on the demo province must stay fast."""

from __future__ import annotations

import os
import statistics
import tempfile
import time

TARGET_MS = 20.0


def run(repeats: int = 50) -> dict[str, float]:
    os.environ.setdefault("TINHSO_VAR_DIR", tempfile.mkdtemp(prefix="tinhso-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinhso.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from tinhso.core.demo import demo_load
    from tinhso.core.models import Role, User
    from tinhso.core.selectors import officials_list

    call_command("migrate", verbosity=0)
    demo_load()
    commune_officer = (
        User.objects.filter(roles__role=Role.DESK_OFFICER, agency__kind="commune_committee")
        .select_related("agency__unit")
        .first()
    )
    leader = User.objects.get(username="ubnd.chutich")
    result = {}
    for label, user in (("commune desk officer", commune_officer), ("provincial leader", leader)):
        timings = []
        for _ in range(repeats):
            user._scope_cache = None
            start = time.perf_counter()
            rows = list(officials_list(user)[:50])
            timings.append((time.perf_counter() - start) * 1000)
        result[label] = statistics.median(timings)
        print(
            f"officials list, first page, {label} ({len(rows)} rows): "
            f"{result[label]:.2f} ms median (target ≤ {TARGET_MS:.0f})"
        )
    return result
