"""The demo province: Thái Nguyên after the 2025 merger (it absorbed Bắc Kạn), with its
communes from `vietnam-provinces`, about forty agencies and officials for every role.

Everything goes through the services, so the demo leaves the same audit trail as real use,
and every step looks its rows up by their natural keys: loading it twice changes nothing.
Agency codes follow the pattern of Quyết định 20/2020/QĐ-TTg under the province's level-1
code H55; the level-2 numbers are illustrative, not the province's published list."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext as _

from tinhso.core import services
from tinhso.core.models import (
    AdministrativeUnit,
    Agency,
    AgencyKind,
    ProvinceCalendar,
    Role,
    UnitLevel,
    User,
)

PROVINCE_CODE = "19"
PROVINCE_SUFFIX = "H55"
DEMO_PASSWORD = "tinhso@2026"
COMMUNE_AGENCY_COUNT = 23


@dataclass(frozen=True)
class AgencySpec:
    slug: str
    name: str
    short_name: str
    kind: str
    departments: tuple[tuple[str, str], ...]
    leader_title: str = "Giám đốc"


PROVINCIAL_AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec(
        "ubnd",
        "Ủy ban nhân dân tỉnh Thái Nguyên",
        "UBND tỉnh",
        AgencyKind.PROVINCIAL_COMMITTEE,
        (),
        "Chủ tịch",
    ),
    AgencySpec(
        "vpubnd",
        "Văn phòng Ủy ban nhân dân tỉnh",
        "Văn phòng UBND tỉnh",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("kstthc", "Phòng Kiểm soát thủ tục hành chính"), ("th", "Phòng Tổng hợp")),
        "Chánh Văn phòng",
    ),
    AgencySpec(
        "sonoivu",
        "Sở Nội vụ",
        "Sở Nội vụ",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("ldvl", "Phòng Lao động – Việc làm"), ("ccvc", "Phòng Công chức, viên chức")),
    ),
    AgencySpec(
        "sotaichinh",
        "Sở Tài chính",
        "Sở Tài chính",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("dkkd", "Phòng Đăng ký kinh doanh"), ("qlns", "Phòng Quản lý ngân sách")),
    ),
    AgencySpec(
        "sotuphap",
        "Sở Tư pháp",
        "Sở Tư pháp",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("hctp", "Phòng Hành chính tư pháp"), ("btp", "Phòng Bổ trợ tư pháp")),
    ),
    AgencySpec(
        "soxaydung",
        "Sở Xây dựng",
        "Sở Xây dựng",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (
            ("qlhdxd", "Phòng Quản lý hoạt động xây dựng"),
            ("qlnha", "Phòng Quản lý nhà và thị trường bất động sản"),
        ),
    ),
    AgencySpec(
        "sonnmt",
        "Sở Nông nghiệp và Môi trường",
        "Sở NN&MT",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("datdai", "Phòng Đất đai"), ("moitruong", "Phòng Quản lý môi trường")),
    ),
    AgencySpec(
        "socongthuong",
        "Sở Công Thương",
        "Sở Công Thương",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("qltm", "Phòng Quản lý thương mại"), ("qlnl", "Phòng Quản lý năng lượng")),
    ),
    AgencySpec(
        "sokhcn",
        "Sở Khoa học và Công nghệ",
        "Sở KH&CN",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("cds", "Phòng Chuyển đổi số"), ("bcvt", "Phòng Bưu chính – Viễn thông")),
    ),
    AgencySpec(
        "sogddt",
        "Sở Giáo dục và Đào tạo",
        "Sở GD&ĐT",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("gdpt", "Phòng Giáo dục phổ thông"), ("qlcl", "Phòng Quản lý chất lượng")),
    ),
    AgencySpec(
        "soyte",
        "Sở Y tế",
        "Sở Y tế",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("duoc", "Phòng Nghiệp vụ Dược"), ("nvy", "Phòng Nghiệp vụ Y")),
    ),
    AgencySpec(
        "sovhttdl",
        "Sở Văn hóa, Thể thao và Du lịch",
        "Sở VHTTDL",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("qlvh", "Phòng Quản lý văn hóa"), ("qldl", "Phòng Quản lý du lịch")),
    ),
    AgencySpec(
        "sodttg",
        "Sở Dân tộc và Tôn giáo",
        "Sở DT&TG",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("csdt", "Phòng Chính sách dân tộc"), ("tg", "Phòng Quản lý tôn giáo")),
    ),
    AgencySpec(
        "thanhtra",
        "Thanh tra tỉnh",
        "Thanh tra tỉnh",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("tcd", "Phòng Tiếp công dân và xử lý đơn"), ("nv1", "Phòng Nghiệp vụ 1")),
        "Chánh Thanh tra",
    ),
    AgencySpec(
        "bqlkcn",
        "Ban Quản lý các khu công nghiệp tỉnh",
        "Ban QL các KCN",
        AgencyKind.PROVINCIAL_DEPARTMENT,
        (("qldt", "Phòng Quản lý đầu tư"), ("qlld", "Phòng Quản lý lao động")),
        "Trưởng ban",
    ),
    AgencySpec(
        "ttpvhcc",
        "Trung tâm Phục vụ hành chính công tỉnh",
        "Trung tâm PVHCC",
        AgencyKind.PUBLIC_SERVICE_CENTRE,
        (("gs", "Phòng Giám sát, đánh giá"),),
    ),
    AgencySpec(
        "congan",
        "Công an tỉnh Thái Nguyên",
        "Công an tỉnh",
        AgencyKind.POLICE,
        (
            ("pc06", "Phòng Cảnh sát quản lý hành chính về trật tự xã hội"),
            ("pc08", "Phòng Cảnh sát giao thông"),
        ),
        "Giám đốc Công an tỉnh",
    ),
)

#: Added after the communes with its own number, so the communes' codes stay as they were.
SOCIAL_INSURANCE_CODE = f"000.00.99.{PROVINCE_SUFFIX}"
SOCIAL_INSURANCE = AgencySpec(
    "bhxh",
    "Bảo hiểm xã hội tỉnh Thái Nguyên",
    "BHXH tỉnh",
    AgencyKind.SOCIAL_INSURANCE,
    (("thu", "Phòng Quản lý thu – sổ, thẻ"), ("chedo", "Phòng Chế độ bảo hiểm xã hội")),
)

COMMUNE_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("vp", "Văn phòng HĐND và UBND"),
    ("kt", "Phòng Kinh tế"),
    ("vhxh", "Phòng Văn hóa – Xã hội"),
)
WARD_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("vp", "Văn phòng HĐND và UBND"),
    ("kthtdt", "Phòng Kinh tế, Hạ tầng và Đô thị"),
    ("vhxh", "Phòng Văn hóa – Xã hội"),
)

SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hà",
    "Ma",
    "Triệu",
    "Nông",
    "Dương",
    "Lương",
    "Hứa",
)
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Hồng", "Quang", "Ngọc", "Thanh", "Hữu")
GIVEN = (
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiếu",
    "Hoa",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Minh",
    "Nam",
    "Nga",
    "Phong",
    "Phương",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thắng",
    "Trang",
    "Trung",
    "Tuấn",
    "Yến",
)


def person_name(seed: str) -> str:
    """A stable Vietnamese name for a demo account (the same seed gives the same name)."""
    h = hashlib.sha256(seed.encode()).digest()
    return (
        f"{SURNAMES[h[0] % len(SURNAMES)]} {MIDDLE[h[1] % len(MIDDLE)]} {GIVEN[h[2] % len(GIVEN)]}"
    )


def _commune_slug(unit: AdministrativeUnit) -> str:
    from unicodedata import normalize

    ascii_name = normalize("NFKD", unit.name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = "".join(c for c in ascii_name if c.isascii()).lower()
    prefix, _, rest = ascii_name.partition(" ")
    kind = {"phuong": "p", "xa": "xa", "dac": "dk"}.get(prefix, "xa")
    return f"{kind}.{rest.replace(' ', '')}"


def demo_communes(province: AdministrativeUnit) -> list[AdministrativeUnit]:
    """The communes that get a people's committee in the demo: spread over the whole
    merged province (former Bắc Kạn and former Thái Nguyên alike)."""
    communes = list(
        province.children.filter(level=UnitLevel.COMMUNE, valid_until__isnull=True).order_by("code")
    )
    if not communes:
        return []
    step = max(1, len(communes) // COMMUNE_AGENCY_COUNT)
    return communes[::step][:COMMUNE_AGENCY_COUNT]


@dataclass(frozen=True)
class DemoResult:
    agencies: int
    departments: int
    officials: int
    dossiers: int = 0
    payments: int = 0
    ratings: int = 0


#: Finished dossiers over the year before the demo's last sixty days: the operations centre's
#: history (about a minute to load on a laptop).
DEMO_HISTORY_DOSSIERS = 2000


@transaction.atomic
def demo_load(*, dossiers: bool = True) -> DemoResult:
    """Load the demo province (idempotent); `dossiers=False` leaves out the demo dossiers
    (~300 recent ones and a year of history: the slowest part) for tests about the province
    alone."""
    services.units_load(actor=None, province_code=PROVINCE_CODE, source="demo")
    province = AdministrativeUnit.objects.get(
        level=UnitLevel.PROVINCE, code=PROVINCE_CODE, valid_until__isnull=True
    )
    if not ProvinceCalendar.objects.filter(province=province).exists():
        services.province_calendar_set_office_hours(
            actor=None, province=province, office_hours="07:30-11:30,13:00-17:00", source="demo"
        )
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: the demo has hundreds of users
    counts = {"agencies": 0, "departments": 0, "officials": 0}

    def official(
        username: str, agency: Agency, roles: list[str], position: str, department=None
    ) -> None:
        services.official_save(
            actor=None,
            username=username,
            full_name=person_name(username),
            agency=agency,
            department=department,
            roles=roles,
            position=position,
            email=f"{username}@demo.tinhso.vn",
            password_hash=password_hash,
            source="demo",
        )
        counts["officials"] += 1

    def staff_agency(
        agency: Agency,
        slug: str,
        specs: tuple[tuple[str, str], ...],
        leader_title: str,
        desk_name: str,
    ) -> None:
        official(f"{slug}.lanhdao", agency, [Role.AGENCY_LEADER], leader_title)
        desk = services.department_save(
            actor=None,
            agency=agency,
            code="motcua",
            name=desk_name,
            is_one_stop_desk=True,
            source="demo",
        )
        counts["departments"] += 1
        for i in (1, 2):
            official(
                f"{slug}.motcua{i}",
                agency,
                [Role.DESK_OFFICER],
                "Công chức tiếp nhận và trả kết quả",
                desk,
            )
        for code, name in specs:
            department = services.department_save(
                actor=None, agency=agency, code=code, name=name, source="demo"
            )
            counts["departments"] += 1
            official(
                f"{slug}.{code}.truongphong",
                agency,
                [Role.DEPARTMENT_LEADER],
                "Trưởng phòng",
                department,
            )
            for i in (1, 2):
                official(
                    f"{slug}.{code}.chuyenvien{i}",
                    agency,
                    [Role.SPECIALIST],
                    "Chuyên viên",
                    department,
                )

    for number, spec in enumerate(PROVINCIAL_AGENCIES):
        agency = services.agency_save(
            actor=None,
            code=f"000.00.{number:02d}.{PROVINCE_SUFFIX}",
            name=spec.name,
            short_name=spec.short_name,
            kind=spec.kind,
            unit=province,
            source="demo",
        )
        counts["agencies"] += 1
        if spec.slug == "ubnd":
            official("ubnd.chutich", agency, [Role.PROVINCIAL_LEADER], "Chủ tịch UBND tỉnh")
            official("ubnd.phochutich", agency, [Role.PROVINCIAL_LEADER], "Phó Chủ tịch UBND tỉnh")
            continue
        staff_agency(agency, spec.slug, spec.departments, spec.leader_title, "Bộ phận Một cửa")
        if spec.slug == "sokhcn":
            official(
                "quantri",
                agency,
                [Role.ADMINISTRATOR],
                "Quản trị hệ thống",
                agency.departments.get(code="cds"),
            )

    for number, commune in enumerate(demo_communes(province), start=len(PROVINCIAL_AGENCIES)):
        is_ward = commune.division_type.startswith("phường")
        agency = services.agency_save(
            actor=None,
            code=f"000.00.{number:02d}.{PROVINCE_SUFFIX}",
            name=f"Ủy ban nhân dân {commune.name.replace('Xã', 'xã').replace('Phường', 'phường')}",
            short_name=f"UBND {commune.name}",
            kind=AgencyKind.COMMUNE_COMMITTEE,
            unit=commune,
            source="demo",
        )
        counts["agencies"] += 1
        staff_agency(
            agency,
            _commune_slug(commune),
            WARD_DEPARTMENTS if is_ward else COMMUNE_DEPARTMENTS,
            "Chủ tịch UBND",
            "Trung tâm Phục vụ hành chính công",
        )

    insurance = services.agency_save(
        actor=None,
        code=SOCIAL_INSURANCE_CODE,
        name=SOCIAL_INSURANCE.name,
        short_name=SOCIAL_INSURANCE.short_name,
        kind=SOCIAL_INSURANCE.kind,
        unit=province,
        source="demo",
    )
    counts["agencies"] += 1
    staff_agency(
        insurance,
        SOCIAL_INSURANCE.slug,
        SOCIAL_INSURANCE.departments,
        SOCIAL_INSURANCE.leader_title,
        "Bộ phận Một cửa",
    )

    admin = User.objects.filter(username="admin").first()
    if admin is None:
        User.objects.create_superuser(
            username="admin",
            email="admin@demo.tinhso.vn",
            password=None,
            full_name="Quản trị viên hệ thống",
        )
        User.objects.filter(username="admin").update(password=password_hash)

    # The catalog app builds on core, so it is imported here rather than at the top.
    from tinhso.catalog.demo import DEMO_CATALOG, load_demo_catalog

    if DEMO_CATALOG.exists():
        load_demo_catalog()

    # Last, on top of the agencies, officials and catalog: dossiers at every stage.
    from tinhso.catalog.models import Procedure
    from tinhso.dossiers.demo import load_demo_dossiers

    if dossiers and Procedure.objects.filter(is_active=True).exists():
        counts["dossiers"] = load_demo_dossiers(history_count=DEMO_HISTORY_DOSSIERS)
        from tinhso.payments.demo import pay_demo_bills

        if counts["dossiers"]:  # once, with the dossiers: a second load changes nothing
            from tinhso.portal.demo import rate_demo_dossiers

            counts["payments"] = pay_demo_bills()
            counts["ratings"] = rate_demo_dossiers()
    return DemoResult(**counts)


def demo_accounts() -> list[dict[str, str]]:
    """The accounts the sign-in page offers in demo mode, one per role, two communes."""
    province = AdministrativeUnit.objects.filter(
        level=UnitLevel.PROVINCE, code=PROVINCE_CODE, valid_until__isnull=True
    ).first()
    communes = demo_communes(province)[:2] if province else []
    wanted = [
        "admin",
        "quantri",
        "ubnd.chutich",
        "sotuphap.lanhdao",
        "sotuphap.hctp.truongphong",
        "sotuphap.hctp.chuyenvien1",
        "sotuphap.motcua1",
    ]
    for commune in communes:
        slug = _commune_slug(commune)
        wanted += [f"{slug}.lanhdao", f"{slug}.motcua1"]
    users = {
        u.username: u
        for u in User.objects.filter(username__in=wanted)
        .select_related("agency")
        .prefetch_related("roles")
    }
    result = []
    for username in wanted:
        user = users.get(username)
        if user is None:
            continue
        roles = ", ".join(user.role_labels()) or (str(_("Superuser")) if user.is_superuser else "")
        result.append(
            {
                "username": username,
                "password": DEMO_PASSWORD,
                "name": user.full_name,
                "roles": roles,
                "agency": user.agency.short_name if user.agency else "",
            }
        )
    return result
