"""The back office speaks Vietnamese by default and English on request; the Vietnamese
catalog is complete, keeps every placeholder, and its compiled .mo is in step with the .po."""

from __future__ import annotations

import ast
import gettext as py_gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tinhso.core import errors

PO_PATH = Path(settings.LOCALE_PATHS[0]) / "vi" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        """The entry's key in a compiled catalog (`context\x04msgid` with a context)."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def parse_po(path: Path) -> list[Entry]:
    """A minimal reader of the PO format: enough for the checks below. Obsolete entries
    (`#~`) and comments are skipped; every entry, the header included, is returned."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None
    pending_flags: set[str] = set()

    def finish() -> None:
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#,"):
            finish()
            pending_flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation without a keyword"
            text = ast.literal_eval(line)
        else:
            text = ast.literal_eval(rest)
            if keyword == "msgctxt":
                finish()
                current = Entry(flags=pending_flags, line=number, msgctxt="")
                pending_flags = set()
                target = ("msgctxt", 0)
            elif keyword == "msgid":
                if current is None or current.msgctxt is None or target != ("msgctxt", 0):
                    finish()
                    current = Entry(flags=pending_flags, line=number)
                    pending_flags = set()
                target = ("msgid", 0)
            elif keyword == "msgid_plural":
                target = ("msgid_plural", 0)
                current.msgid_plural = ""
            elif keyword == "msgstr":
                target = ("msgstr", 0)
                current.msgstr[0] = ""
            elif keyword.startswith("msgstr["):
                target = ("msgstr", int(keyword[7:-1]))
                current.msgstr[target[1]] = ""
            else:
                raise AssertionError(f"{path}:{number}: unexpected line {raw!r}")
        kind, index = target
        if kind == "msgctxt":
            current.msgctxt += text
        elif kind == "msgid":
            current.msgid += text
        elif kind == "msgid_plural":
            current.msgid_plural += text
        else:
            current.msgstr[index] += text
    finish()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(po_entries) -> list[Entry]:
    return [e for e in po_entries if e.msgid]


@pytest.fixture(autouse=True)
def _restore_language():
    # The test client's requests activate a language on this thread; do not leak it.
    before = translation.get_language()
    yield
    translation.activate(before)


# --- pages --------------------------------------------------------------------------


def test_sign_in_page_is_vietnamese_by_default(client, world):
    response = client.get(reverse("core:signin"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    for text in ("Đăng nhập", "Tên đăng nhập", "Mật khẩu", "Đăng nhập dành cho cán bộ"):
        assert text in html
    assert "Sign in" not in html
    assert "Password" not in html


def test_english_is_available_through_set_language(client, world):
    signin = reverse("core:signin")
    response = client.post("/i18n/setlang/", {"language": "en", "next": signin})
    assert response.status_code == 302
    html = client.get(signin).content.decode()
    assert '<html lang="en">' in html
    assert "Sign in" in html
    assert "Username" in html
    assert "Đăng nhập" not in html

    client.post("/i18n/setlang/", {"language": "vi", "next": signin})
    assert "Đăng nhập" in client.get(signin).content.decode()


def test_wrong_password_message_is_vietnamese(client, world):
    response = client.post(
        reverse("core:signin"), {"username": world.desk_a.username, "password": "wrong"}
    )
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.content.decode()


def test_back_office_pages_are_vietnamese(client, world):
    client.force_login(world.desk_a)
    html = client.get(reverse("core:home")).content.decode()
    for text in ("Tổng quan", "Đơn vị hành chính", "Cơ quan, đơn vị", "Nhật ký thay đổi"):
        assert text in html
    assert "Đăng xuất" in html
    # A placeholder inside a translated sentence is filled in.
    assert f"Phạm vi của bạn: {world.agency_a.name}." in html

    html = client.get(reverse("core:official_list")).content.decode()
    assert "Cán bộ một cửa" in html
    assert "Tên đăng nhập" in html


def test_role_labels_are_vietnamese(world):
    with translation.override("vi"):
        assert world.provincial_leader.role_labels() == ["Lãnh đạo tỉnh"]
        assert world.administrator.role_labels() == ["Quản trị viên"]
    with translation.override("en"):
        assert world.provincial_leader.role_labels() == ["Provincial leader"]


def test_domain_error_messages_follow_the_language():
    with translation.override("vi"):
        assert str(errors.NotFound().message) == "Không tìm thấy."
    with translation.override("en"):
        assert str(errors.NotFound().message) == "Not found."


def test_flash_messages_are_vietnamese(client, world):
    client.force_login(world.administrator)
    response = client.post(reverse("core:calendar_override_add"), {"date": "not-a-date"})
    assert response.status_code == 302
    html = client.get(reverse("core:calendar")).content.decode()
    assert "Vui lòng nhập ngày hợp lệ" in html
    assert "Lịch làm việc" in html


# --- the catalog --------------------------------------------------------------------


def test_catalog_header_declares_vietnamese(po_entries):
    header = next(e for e in po_entries if e.msgid == "")
    meta = header.msgstr[0]
    assert "Language: vi\n" in meta
    assert "Plural-Forms: nplurals=1; plural=0;\n" in meta
    assert "charset=UTF-8" in meta
    assert "fuzzy" not in header.flags


def test_every_entry_is_translated_and_none_is_fuzzy(messages):
    assert len(messages) > 100
    fuzzy = [e.msgid for e in messages if "fuzzy" in e.flags]
    assert fuzzy == []
    untranslated = [e.msgid for e in messages if not all(s.strip() for s in e.msgstr.values())]
    assert untranslated == []
    assert "#, fuzzy" not in PO_PATH.read_text(encoding="utf-8")


def test_translations_keep_every_placeholder(messages):
    for entry in messages:
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for msgstr in entry.msgstr.values():
            assert sorted(PLACEHOLDER.findall(msgstr)) == wanted, entry.msgid


def test_official_terms_are_used(messages):
    translated = {
        e.msgid: e.msgstr[0] for e in messages if e.msgid_plural is None and e.msgctxt is None
    }
    assert translated["Sign in"] == "Đăng nhập"
    assert translated["Sign out"] == "Đăng xuất"
    assert translated["Username"] == "Tên đăng nhập"
    assert translated["Password"] == "Mật khẩu"
    assert translated["Overview"] == "Tổng quan"
    assert translated["Administration"] == "Quản trị hệ thống"
    assert translated["Audit trail"] == "Nhật ký thay đổi"
    assert translated["Electronic identifier code"] == "Mã định danh điện tử"
    assert translated["One-stop desk officer"] == "Cán bộ một cửa"
    assert translated["Specialist"] == "Chuyên viên"
    assert translated["Department leader"] == "Lãnh đạo phòng"
    assert translated["Agency leader"] == "Lãnh đạo cơ quan"
    assert translated["Provincial leader"] == "Lãnh đạo tỉnh"
    assert translated["Administrator"] == "Quản trị viên"
    assert translated["Working calendar"] == "Lịch làm việc"
    assert translated["Overrides"] == "Ngày điều chỉnh"


def test_compiled_catalog_is_in_step_with_the_po(messages):
    assert MO_PATH.exists(), "run `tinhso compilemessages`"
    with MO_PATH.open("rb") as handle:
        compiled = py_gettext.GNUTranslations(handle)._catalog
    compiled_ids = {key if isinstance(key, str) else key[0] for key in compiled if key}
    assert compiled_ids == {e.key for e in messages}
    for entry in messages:
        if entry.msgid_plural is None:
            assert compiled[entry.key] == entry.msgstr[0], entry.msgid
        else:
            for index, msgstr in entry.msgstr.items():
                assert compiled[(entry.key, index)] == msgstr, entry.msgid


def test_django_serves_the_po_translations(messages):
    plain = [
        e
        for e in messages
        if e.msgid_plural is None and "%" not in e.msgid and "python-format" not in e.flags
    ]
    assert plain
    with translation.override("vi"):
        for entry in plain:
            served = (
                translation.gettext(entry.msgid)
                if entry.msgctxt is None
                else translation.pgettext(entry.msgctxt, entry.msgid)
            )
            assert served == entry.msgstr[0], entry.msgid


def test_an_english_browser_still_gets_vietnamese_until_the_user_switches(client, db):
    page = client.get(reverse("core:signin"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Đăng nhập" in page.content.decode()
    assert page["Content-Language"] == "vi"
