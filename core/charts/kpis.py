"""Plotly figures of the governance KPI trends (issue 16, Step 8). Pure: plain values in
(days, series of numbers, KRI levels), a figure out; ``static/js/charts.js`` draws it."""

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from core.charts.base import base_layout, plain

LINE_COLOURS = ("#16325c", "#c2410c", "#5b7aa6", "#b91c1c", "#15803d", "#7c3aed", "#a16207")
BREACH_COLOUR = "#b91c1c"
WARNING_COLOUR = "#d97706"


def kpi_trend(
    days: Sequence[str],
    lines: Mapping[str, Sequence[float | None]],
    *,
    levels: Sequence[tuple[str, float]] = (),
    y_title: str = "",
) -> go.Figure:
    """Lines of indicators over ``days`` (ISO dates); ``levels``: horizontal dotted
    lines of KRI levels, as (label, value), the label saying which (breach or warning).

    Built in one go, the layout (with its template) first and the level lines as layout
    shapes: a page draws seven of these for a year of days, and adding traces and lines
    one by one to a figure made with the default template cost 2.5 times as much."""
    shapes, annotations = [], []
    for label, value in levels:
        colour = BREACH_COLOUR if "breach" in label.lower() else WARNING_COLOUR
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": value,
                "y1": value,
                "line": {"color": colour, "dash": "dot", "width": 1},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 0,
                "yref": "y",
                "y": value,
                "text": plain(label),
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "font": {"color": colour, "size": 11},
            }
        )
    layout = base_layout(
        height=260,
        margin={"l": 44, "r": 8, "t": 8, "b": 36},
        showlegend=len(lines) > 1,
        xaxis={"type": "date", "showgrid": False},
        yaxis={"title": {"text": y_title}, "rangemode": "tozero", "gridcolor": "#e5e7eb"},
        shapes=shapes,
        annotations=annotations,
    )
    traces = [
        go.Scatter(
            x=list(days),
            y=list(values),
            mode="lines",
            name=plain(label),
            line={"color": LINE_COLOURS[i % len(LINE_COLOURS)], "width": 2},
            connectgaps=False,
            hovertemplate="%{x}: %{y}<extra>" + plain(label) + "</extra>",
        )
        for i, (label, values) in enumerate(lines.items())
    ]
    return go.Figure(data=traces, layout=layout)


def cell_bars(categories: Sequence[str], series: Mapping[str, Sequence[int]]) -> go.Figure:
    """Grouped bars per policy cell (or consideration): e.g. waivers and findings."""
    layout = base_layout(
        barmode="group",
        height=300,
        margin={"l": 40, "r": 8, "t": 8, "b": 90},
        xaxis={"tickangle": -30, "automargin": True},
        yaxis={"rangemode": "tozero", "gridcolor": "#e5e7eb"},
    )
    traces = [
        go.Bar(
            name=plain(label),
            x=[plain(c) for c in categories],
            y=list(values),
            marker={"color": LINE_COLOURS[i % len(LINE_COLOURS)]},
            hovertemplate="%{x}: %{y}<extra>" + plain(label) + "</extra>",
        )
        for i, (label, values) in enumerate(series.items())
    ]
    return go.Figure(data=traces, layout=layout)
