"""Text helpers for Vietnamese."""

from __future__ import annotations

import unicodedata


def fold_vietnamese(text: str) -> str:
    """Lower case without diacritics, so `dang ky khai sinh` finds `Đăng ký khai sinh`."""
    text = text.replace("đ", "d").replace("Đ", "D").lower()
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
