"""The few panel shapes Jeeves's dashboards use, on grafana-foundation-sdk's builders.

`Board` lays panels out left to right in rows of 24 columns, gives every panel an id and every
query a refId (the SDK leaves both to the caller), and points every panel at the `datasource`
variable, so a dashboard imported anywhere asks for its Prometheus once. `series(...)` is a
time-series panel of one or more PromQL queries; `single(...)` a stat panel of one number.
Queries use Grafana's `$__rate_interval` for rates and the dashboard's variables by name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grafana_foundation_sdk.builders import common, stat, timeseries
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import (
    BigValueColorMode,
    BigValueGraphMode,
    LegendDisplayMode,
    LegendPlacement,
    SortOrder,
    StackingMode,
    TooltipDisplayMode,
)
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    GridPos,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
    VariableSort,
)

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"
WIDTH = 24


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    """A panel before layout: its builder and width (height is fixed per kind)."""

    builder: Any
    width: int
    height: int


def _targets(builder: Any, queries: Sequence[Query], *, instant: bool) -> Any:
    for n, query in enumerate(queries):
        target = prom.Dataquery().expr(query.expr).ref_id(chr(ord("A") + n))
        if query.legend:
            target = target.legend_format(query.legend)
        target = target.instant() if instant else target.range()
        builder = builder.with_target(target)
    return builder


def series(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    description: str = "",
    width: int = 12,
    stacked: bool = False,
) -> Panel:
    builder = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .min(0)
        .line_width(1)
        .fill_opacity(10 if not stacked else 60)
        .legend(
            common.VizLegendOptions()
            .show_legend(True)
            .display_mode(LegendDisplayMode.LIST)
            .placement(LegendPlacement.BOTTOM)
            .calcs([])
        )
        .tooltip(
            common.VizTooltipOptions().mode(TooltipDisplayMode.MULTI).sort(SortOrder.DESCENDING)
        )
    )
    if stacked:
        builder = builder.stacking(common.StackingConfig().mode(StackingMode.NORMAL))
    return Panel(_targets(builder, queries, instant=False), width, 8)


def single(
    title: str,
    query: Query,
    *,
    unit: str = "short",
    description: str = "",
    width: int = 6,
    warn: float | None = None,
    bad: float | None = None,
) -> Panel:
    steps = [Threshold(value=None, color="green")]
    if warn is not None:
        steps.append(Threshold(value=warn, color="orange"))
    if bad is not None:
        steps.append(Threshold(value=bad, color="red"))
    builder = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .graph_mode(BigValueGraphMode.AREA)
        .color_mode(BigValueColorMode.VALUE)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(dash.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps))
    )
    return Panel(_targets(builder, [query], instant=False), width, 5)


def query_variable(
    name: str, label: str, query: str, *, multi: bool = True, description: str = ""
) -> Any:
    """A variable filled from Prometheus (`label_values(...)`), "All" by default."""
    return (
        dash.QueryVariable(name)
        .label(label)
        .description(description)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(True)
        .all_value(".*")
    )


@dataclass
class Board:
    """A dashboard being built: rows of panels laid out on Grafana's 24-column grid."""

    uid: str
    title: str
    description: str
    variables: Sequence[Any] = ()
    _builder: Any = None
    _x: int = 0
    _y: int = 0
    _row_height: int = 0
    _ids: int = 0
    _links: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._builder = (
            dash.Dashboard(self.title)
            .uid(self.uid)
            .description(self.description)
            .tags(["jeeves"])
            .timezone("utc")
            .time("now-1h", "now")
            .refresh("30s")
            .tooltip(DashboardCursorSync.CROSSHAIR)
            .readonly()
            .link(
                dash.DashboardLink("Jeeves")
                .type(DashboardLinkType.DASHBOARDS)
                .tags(["jeeves"])
                .as_dropdown(True)
                .include_vars(False)
                .keep_time(True)
            )
            .with_variable(
                dash.DatasourceVariable("datasource").label("Data source").type("prometheus")
            )
        )
        for variable in self.variables:
            self._builder = self._builder.with_variable(variable)

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def row(self, title: str) -> Board:
        self._newline()
        row = dash.Row(title).id(self._next_id()).grid_pos(grid(0, self._y, WIDTH, 1))
        self._builder = self._builder.with_row(row)
        self._y += 1
        return self

    def add(self, *panels: Panel) -> Board:
        for panel in panels:
            if self._x + panel.width > WIDTH:
                self._newline()
            placed = panel.builder.id(self._next_id()).grid_pos(
                grid(self._x, self._y, panel.width, panel.height)
            )
            self._builder = self._builder.with_panel(placed)
            self._x += panel.width
            self._row_height = max(self._row_height, panel.height)
        return self

    def _newline(self) -> None:
        if self._x:
            self._y += self._row_height
        self._x, self._row_height = 0, 0

    def json(self) -> dict[str, Any]:
        encoded: dict[str, Any] = json.loads(json.dumps(self._builder.build(), cls=JSONEncoder))
        return encoded


def grid(x: int, y: int, w: int, h: int) -> GridPos:
    return GridPos(h=h, w=w, x=x, y=y)
