"""The personal identification number (số định danh cá nhân) and what it says about a person.

Nghị định 137/2015/NĐ-CP (as amended) gives every citizen a 12-digit number; Thông tư
07/2016/TT-BCA (amended by 59/2021/TT-BCA) fixes its structure:

- digits 1–3: the code of the province where the birth was registered (the 63 codes of the
  provinces before the 2025 merger; 100–999 are not used);
- digit 4: century and gender — 0/1 born in the 20th century, male/female; 2/3 the 21st;
  4/5 the 22nd; 6/7 the 23rd; 8/9 the 24th;
- digits 5–6: the last two digits of the year of birth;
- digits 7–12: a random number.

Plain Python with no Django, so forms, services and the simulator share one rule. Messages are
Vietnamese because they are shown to the person who typed the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MALE = "male"
FEMALE = "female"

#: How many years back a birth year may lie before the number is taken as mistyped.
MAX_AGE_YEARS = 150
FORMAT_MESSAGE = "Số định danh cá nhân phải gồm đúng 12 chữ số."

#: Province codes of the scheme (Thông tư 07/2016/TT-BCA, annex), which keeps the 63
#: pre-2025 provinces: numbers already issued never change when provinces merge.
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "Thành phố Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}


class InvalidIdentificationNumber(ValueError):
    """The number cannot be a personal identification number. `reason` is one of
    "format", "province", "birth_year"; `message` says why, in Vietnamese."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class IdentityInfo:
    province_code: str
    gender: str
    birth_year: int

    @property
    def province_name(self) -> str:
        return PROVINCE_CODES[self.province_code]


def parse_identification_number(number: str, *, today: date | None = None) -> IdentityInfo:
    """What the 12 digits say (birth province, gender, birth year), or
    `InvalidIdentificationNumber` when they cannot be a real number on `today`."""
    today = today or date.today()
    if not (isinstance(number, str) and len(number) == 12 and number.isascii()):
        raise InvalidIdentificationNumber("format", FORMAT_MESSAGE)
    if not number.isdigit():
        raise InvalidIdentificationNumber("format", FORMAT_MESSAGE)
    province_code = number[:3]
    if province_code not in PROVINCE_CODES:
        raise InvalidIdentificationNumber(
            "province",
            f"Mã tỉnh nơi đăng ký khai sinh {province_code} không tồn tại.",
        )
    century_gender = int(number[3])
    gender = FEMALE if century_gender % 2 else MALE
    birth_year = 1900 + 100 * (century_gender // 2) + int(number[4:6])
    if birth_year > today.year:
        raise InvalidIdentificationNumber(
            "birth_year", f"Năm sinh {birth_year} suy ra từ số định danh là năm trong tương lai."
        )
    if birth_year < today.year - MAX_AGE_YEARS:
        raise InvalidIdentificationNumber(
            "birth_year",
            f"Năm sinh {birth_year} suy ra từ số định danh cách đây hơn {MAX_AGE_YEARS} năm.",
        )
    return IdentityInfo(province_code=province_code, gender=gender, birth_year=birth_year)


def is_valid(number: str, *, today: date | None = None) -> bool:
    try:
        parse_identification_number(number, today=today)
    except InvalidIdentificationNumber:
        return False
    return True


def matches(
    number: str, *, birth_year: int | None, gender: str | None, today: date | None = None
) -> bool:
    """Whether a form's birth year and gender agree with what the number encodes (a missing
    value is not checked). An invalid number matches nothing."""
    try:
        info = parse_identification_number(number, today=today)
    except InvalidIdentificationNumber:
        return False
    if birth_year is not None and info.birth_year != birth_year:
        return False
    return not (gender is not None and info.gender != gender)
