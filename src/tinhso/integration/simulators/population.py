"""A stand-in for the national population database, for the demo and the tests.

`GET /sim/population/people/<number>` answers with a person made up from the number itself:
the same number always gives the same person, whose birth year and gender agree with the
number's digits, living in Thái Nguyên. A number ending in 000000 is unknown (404). The
switch `SimulatorSwitch("population")` breaks it on purpose: down → 503, `fail_next` → 500.
"""

from __future__ import annotations

import calendar
import random
import time
from datetime import date
from urllib.parse import unquote

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from tinhso.integration import simulators
from tinhso.integration.identity import (
    FEMALE,
    InvalidIdentificationNumber,
    parse_identification_number,
)
from tinhso.integration.models import SimulatorRecord, SimulatorSwitch

NAME = "population"

FAMILY_NAMES = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Phan", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Ma",
]  # fmt: skip
MIDDLE_NAMES = {
    "male": ["Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thành", "Xuân"],
    "female": ["Thị", "Ngọc", "Thu", "Thanh", "Thị Hồng", "Phương", "Kim", "Thị Minh"],
}
GIVEN_NAMES = {
    "male": ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong",
             "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Vinh"],
    "female": ["Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh",
               "Mai", "Nga", "Oanh", "Thảo", "Trang", "Yến"],
}  # fmt: skip
#: Communes and wards of Thái Nguyên (two-level units since 1 July 2025).
COMMUNES = [
    "Phường Phan Đình Phùng", "Phường Linh Sơn", "Phường Tích Lương", "Phường Gia Sàng",
    "Phường Quyết Thắng", "Phường Quan Triều", "Phường Phổ Yên", "Phường Sông Công",
    "Phường Bách Quang", "Phường Đức Xuân", "Phường Bắc Kạn", "Xã Đại Phúc", "Xã Đại Từ",
    "Xã Phú Bình", "Xã Đồng Hỷ", "Xã Phú Lương", "Xã Định Hóa", "Xã Võ Nhai", "Xã Ba Bể",
    "Xã Chợ Đồn", "Xã Na Rì",
]  # fmt: skip


def fake_person(id_number: str) -> dict[str, str]:
    """The made-up person behind a valid `id_number` (deterministic)."""
    info = parse_identification_number(id_number)
    rng = random.Random(f"tinhso-population:{id_number}")
    gender = info.gender
    name = " ".join(
        [
            rng.choice(FAMILY_NAMES),
            rng.choice(MIDDLE_NAMES[gender]),
            rng.choice(GIVEN_NAMES[gender]),
        ]
    )
    month = rng.randint(1, 12)
    day = rng.randint(1, calendar.monthrange(info.birth_year, month)[1])
    born = date(info.birth_year, month, day)
    today = timezone.localdate(simulators.now())
    if born > today:  # born this year: not later than today
        born = date(info.birth_year, 1, 1)
    commune = rng.choice(COMMUNES)
    address = f"Số {rng.randint(1, 250)}, tổ {rng.randint(1, 30)}, {commune}, tỉnh Thái Nguyên"
    return {
        "id_number": id_number,
        "full_name": name,
        "date_of_birth": born.isoformat(),
        "gender": "female" if gender == FEMALE else "male",
        "permanent_address": address,
    }


def _fault() -> JsonResponse | None:
    """The answer the switch forces now, if any."""
    with transaction.atomic():
        # The switch row, locked, serialises the count of forced failures.
        simulators.switch(NAME)
        state = SimulatorSwitch.objects.select_for_update().get(simulator=NAME)
        if state.down_until is not None and state.down_until > simulators.now():
            return JsonResponse({"error": "unavailable"}, status=503)
        if state.fail_next > 0:
            state.fail_next -= 1
            state.save(update_fields=["fail_next"])
            return JsonResponse({"error": "internal_error"}, status=500)
    return None


@require_GET
def person(request: HttpRequest, id_number: str) -> JsonResponse:
    fault = _fault()
    if fault is not None:
        return fault
    purpose = unquote(request.headers.get("X-Purpose", ""))
    SimulatorRecord.objects.create(
        simulator=NAME,
        service="people",
        received_at=simulators.now(),
        payload={
            "id_number": id_number,
            "purpose": purpose,
            "agency": request.headers.get("X-Agency-Code", ""),
            "official": unquote(request.headers.get("X-Official", "")),
            "dossier": unquote(request.headers.get("X-Dossier-Code", "")),
        },
    )
    if not purpose:
        return JsonResponse({"error": "purpose required"}, status=400)
    try:
        parse_identification_number(id_number)
    except InvalidIdentificationNumber as exc:
        return JsonResponse({"error": exc.reason, "message": exc.message}, status=400)
    if id_number.endswith("000000"):
        return JsonResponse({"error": "not found"}, status=404)
    if settings.TINHSO_SIMULATOR_DELAY_SECONDS:
        time.sleep(settings.TINHSO_SIMULATOR_DELAY_SECONDS)  # a slow partner, on purpose
    return JsonResponse(fake_person(id_number), json_dumps_params={"ensure_ascii": False})


app_name = "population"
urlpatterns = [
    path("people/<str:id_number>", person, name="person"),
]
