"""Template sources: Django's `{# … #}` comment ends on its own line; one spread over
several lines is printed to the page as text (it happened on the payment return page)."""

from __future__ import annotations

from pathlib import Path

import tinhso

ROOT = Path(tinhso.__file__).parent


def test_no_template_comment_spans_lines():
    offenders = []
    for template in ROOT.rglob("templates/**/*.html"):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            opened = line.count("{#")
            if opened and opened != line.count("#}"):
                offenders.append(f"{template.relative_to(ROOT)}:{number}")
    assert offenders == [], "use {% comment %} for comments longer than a line"
