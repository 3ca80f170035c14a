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
    lines of KRI levels, as (label, value), the label saying which (breach or warning)."""
    fig = go.Figure()
    for i, (label, values) in enumerate(lines.items()):
        fig.add_trace(
            go.Scatter(
                x=list(days),
                y=list(values),
                mode="lines",
                name=plain(label),
                line={"color": LINE_COLOURS[i % len(LINE_COLOURS)], "width": 2},
                connectgaps=False,
                hovertemplate="%{x}: %{y}<extra>" + plain(label) + "</extra>",
            )
        )
    for label, value in levels:
        colour = BREACH_COLOUR if "breach" in label.lower() else WARNING_COLOUR
        fig.add_hline(
            y=value,
            line={"color": colour, "dash": "dot", "width": 1},
            annotation_text=plain(label),
            annotation_position="top left",
            annotation_font={"color": colour, "size": 11},
        )
    fig.update_layout(
        **base_layout(
            height=260,
            margin={"l": 44, "r": 8, "t": 8, "b": 36},
            showlegend=len(lines) > 1,
            legend={"orientation": "h", "y": -0.25},
            xaxis={"type": "date", "showgrid": False},
            yaxis={"title": {"text": y_title}, "rangemode": "tozero", "gridcolor": "#e5e7eb"},
        )
    )
    return fig


def cell_bars(categories: Sequence[str], series: Mapping[str, Sequence[int]]) -> go.Figure:
    """Grouped bars per policy cell (or consideration): e.g. waivers and findings."""
    fig = go.Figure()
    for i, (label, values) in enumerate(series.items()):
        fig.add_trace(
            go.Bar(
                name=plain(label),
                x=[plain(c) for c in categories],
                y=list(values),
                marker={"color": LINE_COLOURS[i % len(LINE_COLOURS)]},
                hovertemplate="%{x}: %{y}<extra>" + plain(label) + "</extra>",
            )
        )
    fig.update_layout(
        **base_layout(
            barmode="group",
            height=300,
            margin={"l": 40, "r": 8, "t": 8, "b": 90},
            legend={"orientation": "h", "y": 1.1},
            xaxis={"tickangle": -30, "automargin": True},
            yaxis={"rangemode": "tozero", "gridcolor": "#e5e7eb"},
        )
    )
    return fig
