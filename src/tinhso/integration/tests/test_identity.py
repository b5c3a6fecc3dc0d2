from datetime import date

import pytest

from tinhso.integration.identity import (
    FEMALE,
    MALE,
    PROVINCE_CODES,
    InvalidIdentificationNumber,
    is_valid,
    matches,
    parse_identification_number,
)

TODAY = date(2026, 3, 1)


def test_the_scheme_lists_the_63_provinces_before_the_merger():
    assert len(PROVINCE_CODES) == 63
    assert PROVINCE_CODES["019"] == "Thái Nguyên"
    assert all(code < "100" for code in PROVINCE_CODES)


@pytest.mark.parametrize(
    ("number", "province", "gender", "year"),
    [
        ("019090000001", "019", MALE, 1990),
        ("001185012345", "001", FEMALE, 1985),
        ("079205123456", "079", MALE, 2005),
        ("096326999999", "096", FEMALE, 2026),
        ("006000000001", "006", MALE, 1900),
    ],
)
def test_a_valid_number_gives_province_gender_and_birth_year(number, province, gender, year):
    info = parse_identification_number(number, today=TODAY)
    assert (info.province_code, info.gender, info.birth_year) == (province, gender, year)


@pytest.mark.parametrize(
    "number", ["01909000000", "0190900000012", "01909000000a", " 19090000001", "０19090000001", ""]
)
def test_a_number_that_is_not_twelve_digits_is_refused(number):
    with pytest.raises(InvalidIdentificationNumber) as caught:
        parse_identification_number(number, today=TODAY)
    assert caught.value.reason == "format"
    assert "12 chữ số" in caught.value.message


@pytest.mark.parametrize("number", ["003090000001", "097090000001", "100090000001", "999090000001"])
def test_an_unknown_province_code_is_refused(number):
    with pytest.raises(InvalidIdentificationNumber) as caught:
        parse_identification_number(number, today=TODAY)
    assert caught.value.reason == "province"
    assert number[:3] in caught.value.message


@pytest.mark.parametrize(
    "number",
    [
        "019227000001",  # 2027, next year
        "019499000001",  # 2199
        "019875000001",  # the 24th century
    ],
)
def test_an_impossible_birth_year_is_refused(number):
    with pytest.raises(InvalidIdentificationNumber) as caught:
        parse_identification_number(number, today=TODAY)
    assert caught.value.reason == "birth_year"
    assert "Năm sinh" in caught.value.message


def test_a_birth_more_than_150_years_ago_is_refused():
    with pytest.raises(InvalidIdentificationNumber) as caught:
        parse_identification_number("019000000001", today=date(2051, 1, 1))
    assert caught.value.reason == "birth_year"
    assert "150" in caught.value.message
    assert is_valid("019000000001", today=date(2050, 12, 31))


def test_the_birth_year_is_judged_against_today():
    assert not is_valid("019227000001", today=TODAY)
    assert is_valid("019227000001", today=date(2027, 1, 1))


def test_matches_cross_checks_a_forms_birth_year_and_gender():
    assert matches("019190000001", birth_year=1990, gender=FEMALE, today=TODAY)
    assert matches("019190000001", birth_year=1990, gender=None, today=TODAY)
    assert not matches("019190000001", birth_year=1990, gender=MALE, today=TODAY)
    assert not matches("019190000001", birth_year=1991, gender=FEMALE, today=TODAY)
    assert not matches("019190000001x", birth_year=1990, gender=FEMALE, today=TODAY)
