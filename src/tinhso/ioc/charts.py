"""The operations centre's charts: each a `ChartData` (the numbers, read through the selectors)
that the page shows as a table and an inline SVG (pygal, drawn on the server, no script) and
that `exports.py` writes to Excel, so the picture, the table, the file and the API agree.

A chart is named by a slug (`trend`, `breakdown-agency`, `index-unit`, `late-procedures`) and
computed for a resolved scope and a period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pygal
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pygal.style import Style

from tinhso.ioc import selectors
from tinhso.ioc.facts import Facts
from tinhso.ioc.formulas import Value, to_decimal
from tinhso.ioc.indicators import Indicator
from tinhso.ioc.periods import Period
from tinhso.ioc.scopes import ResolvedScope, ScopeKind

Number = Decimal | int | None

#: The scope kinds a scope breaks down into on its page (the next level down).
NEXT_LEVELS: dict[ScopeKind, tuple[ScopeKind, ...]] = {
    ScopeKind.PROVINCE: (ScopeKind.UNIT, ScopeKind.AGENCY),
    ScopeKind.UNIT: (ScopeKind.AGENCY,),
    ScopeKind.AGENCY: (ScopeKind.DEPARTMENT, ScopeKind.OFFICIAL),
    ScopeKind.DEPARTMENT: (ScopeKind.OFFICIAL,),
}
KIND_LABELS = {
    ScopeKind.PROVINCE: gettext_lazy("Province"),
    ScopeKind.UNIT: gettext_lazy("Administrative unit"),
    ScopeKind.AGENCY: gettext_lazy("Agency"),
    ScopeKind.DEPARTMENT: gettext_lazy("Department"),
    ScopeKind.OFFICIAL: gettext_lazy("Official"),
    ScopeKind.FIELD: gettext_lazy("Field"),
    ScopeKind.PROCEDURE: gettext_lazy("Procedure"),
}
BREAKDOWN_CODES = ["on_time_rate", "dossiers_done", "overdue_open", "dossiers_received"]
TREND_CODES = ["dossiers_received", "dossiers_done", "on_time_rate", "online_share"]

COLOURS = ("#b3261e", "#0b57d0", "#1e7d32", "#a15c00", "#6a4bc4")
STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1c1b1f",
    foreground_strong="#1c1b1f",
    foreground_subtle="#dadce0",
    opacity=".9",
    opacity_hover="1",
    colors=COLOURS,
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif',
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=11,
    tooltip_font_size=12,
)


class UnknownChart(LookupError):
    pass


@dataclass
class Row:
    label: str
    values: list[Number]
    url: str = ""

    @property
    def is_idle(self) -> bool:
        return all(not value for value in self.values)


@dataclass
class ChartData:
    slug: str
    title: str
    label_header: str
    headers: list[str]
    rows: list[Row]
    scope: ResolvedScope
    period: Period
    #: The indicators behind the columns (their definitions go in the file's note rows).
    indicators: list[Indicator] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def column(self, index: int) -> list[Number]:
        return [row.values[index] for row in self.rows]

    @property
    def active_rows(self) -> list[Row]:
        """The rows with a figure: what a ranking lists."""
        return [row for row in self.rows if not row.is_idle]

    @property
    def idle_rows(self) -> list[Row]:
        """The parts with nothing in the period (every figure 0 or none): a ranking names
        them after the others instead of a line each (92 communes, most of them quiet)."""
        return [row for row in self.rows if row.is_idle]


def number(value: Value) -> Number:
    """A value as the table shows it: an int for a count, a 2-place decimal otherwise."""
    if not value.has_data:
        return None
    if value.unit == "count":
        return int(value.exact)  # type: ignore[arg-type]
    return to_decimal(value.exact)  # type: ignore[arg-type]


def scope_url(scope: ResolvedScope, period: Period) -> str:
    return f"{reverse('ioc:scope', args=[scope.kind.value, scope.scope.id])}?period={period}"


# --- the data --------------------------------------------------------------------------------


def trend(scope: ResolvedScope, period: Period) -> ChartData:
    """Received, done, on-time rate and online share for the 12 months ending with the
    period's last month (one grouped query on the rollups)."""
    indicators = [selectors.indicator_get(code) for code in TREND_CODES]
    rows = []
    # The trend's indicators read no sum of the fully online procedures.
    for month, flow in selectors.monthly_flows(scope, period, procedure_sums=False):
        values = [number(i.formula(flow=flow)) for i in indicators]
        rows.append(Row(f"{month.first:%m/%Y}", values))
    return ChartData(
        slug="trend",
        title=_("The last 12 months"),
        label_header=_("Month"),
        headers=[str(i.name) for i in indicators],
        rows=rows,
        scope=scope,
        period=period,
        indicators=indicators,
    )


def _sort_worst_first(rows: list[Row], column: int = 0) -> list[Row]:
    """Lowest value first; parts without a value (nothing done) last, by name."""
    return sorted(
        rows,
        key=lambda r: (r.values[column] is None, r.values[column] or 0, r.label),
    )


def breakdown(
    scope: ResolvedScope,
    period: Period,
    by: ScopeKind,
    *,
    at: datetime | None = None,
    whole: Facts | None = None,
) -> ChartData:
    """The parts of the scope one level down by on-time rate (worst first), with the counts.
    `whole`: the scope's `Facts` if the caller has them (see `selectors.grouped_facts`)."""
    indicators = [selectors.indicator_get(code) for code in BREAKDOWN_CODES]
    rows = [
        Row(
            part.label,
            [number(results[code].value) for code in BREAKDOWN_CODES],
            scope_url(part, period),
        )
        for part, results in selectors.breakdown_grouped(
            BREAKDOWN_CODES, scope, period, by, at=at, whole=whole
        )
    ]
    return ChartData(
        slug=f"breakdown-{by.value}",
        title=_("%(kind)s by on-time rate") % {"kind": KIND_LABELS[by]},
        label_header=str(KIND_LABELS[by]),
        headers=[str(i.name) for i in indicators],
        rows=_sort_worst_first(rows),
        scope=scope,
        period=period,
        indicators=indicators,
    )


def index_ranking(
    scope: ResolvedScope, period: Period, by: ScopeKind, *, at: datetime | None = None
) -> ChartData:
    """The parts of the scope by their service-index (766) score out of 100, worst first."""
    rows = []
    for part, result in selectors.index_breakdown(scope, period, by, at=at):
        normalised = result.normalised
        rows.append(
            Row(
                part.label,
                [
                    to_decimal(normalised) if normalised is not None else None,
                    to_decimal(result.score),
                    result.available_points,
                ],
                scope_url(part, period),
            )
        )
    return ChartData(
        slug=f"index-{by.value}",
        title=_("%(kind)s by service index score") % {"kind": KIND_LABELS[by]},
        label_header=str(KIND_LABELS[by]),
        headers=[_("Score out of 100"), _("Points scored"), _("Points that could be scored")],
        rows=_sort_worst_first(rows),
        scope=scope,
        period=period,
        notes=[
            _(
                "Service index of Decision 766/QĐ-TTg: the points scored over the points of "
                "the indicators that have data at this scope, out of 100."
            )
        ],
    )


def late_procedures(scope: ResolvedScope, period: Period, *, limit: int = 10) -> ChartData:
    """The procedures with the most dossiers done late in the period."""
    rows = []
    top = selectors.top_procedures(scope, period, limit=limit, procedure_sums=False)
    for procedure, flow in top:
        rows.append(Row(f"{procedure.code} · {procedure.name}", [flow.done_late, flow.done]))
    return ChartData(
        slug="late-procedures",
        title=_("Procedures with the most late dossiers"),
        label_header=_("Procedure"),
        headers=[_("Done late"), _("Done")],
        rows=rows,
        scope=scope,
        period=period,
        indicators=[selectors.indicator_get("on_time_rate")],
    )


def build(
    slug: str, scope: ResolvedScope, period: Period, *, at: datetime | None = None
) -> ChartData:
    """The chart named `slug` for the scope and period (`UnknownChart` otherwise)."""
    if slug == "trend":
        return trend(scope, period)
    if slug == "late-procedures":
        return late_procedures(scope, period)
    name, _sep, kind = slug.partition("-")
    try:
        by = ScopeKind(kind)
    except ValueError as exc:
        raise UnknownChart(slug) from exc
    if by not in NEXT_LEVELS.get(scope.kind, ()):
        raise UnknownChart(slug)
    if name == "breakdown":
        return breakdown(scope, period, by, at=at)
    if name == "index" and by in (ScopeKind.UNIT, ScopeKind.AGENCY):
        return index_ranking(scope, period, by, at=at)
    raise UnknownChart(slug)


# --- drawing ---------------------------------------------------------------------------------


def _config(**options: Any) -> dict[str, Any]:
    base = {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "margin": 12,
        "show_y_guides": True,
        "print_values": False,
        "no_data_text": _("No data"),
    }
    base.update(options)
    return base


def _floats(values: list[Number]) -> list[float | None]:
    return [float(v) if v is not None else None for v in values]


def line_svg(data: ChartData, columns: list[int], *, percent: bool = False) -> str:
    """A line chart of some columns of `data` across its rows (months)."""
    chart = pygal.Line(
        **_config(
            width=640,
            height=300,
            x_label_rotation=30,  # twelve "MM/YYYY" labels do not fit side by side
            show_minor_x_labels=True,
            range=(0, 100) if percent else None,
            include_x_axis=True,  # counts start from zero, not from their lowest month
            value_formatter=(lambda v: f"{v:.0f} %") if percent else (lambda v: f"{v:,.0f}"),
        )
    )
    chart.x_labels = [row.label for row in data.rows]
    for column in columns:
        chart.add(data.headers[column], _floats(data.column(column)))
    return chart.render(is_unicode=True)


def _short(label: str, length: int = 30) -> str:
    return label if len(label) <= length else label[: length - 1].rstrip() + "…"


def bar_svg(data: ChartData, column: int = 0, *, percent: bool = True, limit: int = 20) -> str:
    """A horizontal bar per row (the worst `limit` of them), labelled with the value."""
    rows = data.rows[:limit]
    chart = pygal.HorizontalBar(
        **_config(
            width=640,
            height=max(120, 60 + 26 * len(rows)),
            show_legend=False,
            print_values=True,
            range=(0, 100) if percent else None,
            value_formatter=(lambda v: f"{v:.1f} %") if percent else (lambda v: f"{v:,.0f}"),
        )
    )
    # pygal draws the first label at the bottom: reverse so the worst is on top.
    chart.x_labels = [_short(r.label) for r in reversed(rows)]
    chart.add(data.headers[column], _floats([r.values[column] for r in reversed(rows)]))
    return chart.render(is_unicode=True)


__all__ = [
    "BREAKDOWN_CODES",
    "NEXT_LEVELS",
    "TREND_CODES",
    "ChartData",
    "Row",
    "UnknownChart",
    "bar_svg",
    "breakdown",
    "build",
    "index_ranking",
    "late_procedures",
    "line_svg",
    "number",
    "scope_url",
    "trend",
]
