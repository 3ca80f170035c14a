"""Plotly figures of production monitoring (issue #6). Pure: they take plain lists and
dicts from ``monitoring.selectors`` and return figures; no Django, no database.
Drawn by ``static/js/charts.js`` under the strict CSP (no inline script or style).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from core.charts.base import GRID_COLOUR, base_layout, plain, wrapped

# low drift pale, high drift dark red; a missing cell (not compared) stays blank
DRIFT_SCALE = [[0.0, "#f8fafc"], [0.35, "#fde68a"], [0.7, "#f97316"], [1.0, "#991b1b"]]
METRIC_COLOURS = {
    "accuracy": "#16325c",
    "precision": "#0f766e",
    "recall": "#5b7aa6",
    "roc_auc": "#c2410c",
}
METRIC_LABELS = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "roc_auc": "ROC AUC",
}


# Windows are named by their first day: drawn on a date axis, in time order, with
# ticks plotly.js spaces for the width (a category axis put every added trace's
# categories after the first trace's and printed every date at a phone's width).
DATE_AXIS = {"type": "date", "showgrid": False}


def _layout(**overrides) -> dict:
    return base_layout(**{"margin": {"l": 8, "r": 8, "t": 8, "b": 8}, **overrides})


def drift_heatmap(
    windows: Sequence[str],
    features: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    metric: str = "psi",
    threshold: float | None = None,
    drifted: Sequence[Sequence[bool]] | None = None,
) -> go.Figure:
    """Feature (rows) x window (columns). ``metric`` "psi" colours by PSI (capped at twice
    the threshold); "pvalue" by -log10 of the test's p-value (capped at 10). A marker
    "!" shows a window in which the feature drifted."""
    if metric == "pvalue":
        import math

        z = [
            [None if v is None else min(-math.log10(max(v, 1e-300)), 10.0) for v in row]
            for row in values
        ]
        zmax, title, fmt = 10.0, "-log10 p", "p = %{customdata:.3g}"
    else:
        z = [list(row) for row in values]
        zmax = max(2 * (threshold or 0.2), 1e-9)
        title, fmt = "PSI", "PSI = %{customdata:.3f}"
    text = [["!" if d else "" for d in row] for row in (drifted or [])] or None
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(windows),
            y=[plain(f) for f in features],
            customdata=[list(row) for row in values],
            text=text,
            texttemplate="%{text}" if text else None,
            colorscale=DRIFT_SCALE,
            zmin=0,
            zmax=zmax,
            # A gap between columns only while they are wide enough to keep one: a year
            # of daily windows on a phone would be all gap and no colour.
            xgap=1 if len(windows) <= 60 else 0,
            ygap=1,
            # No colour bar: plotly.js draws it with inline styles, which the strict CSP
            # refuses; the colour's meaning is in the annotation and every hover.
            showscale=False,
            hovertemplate="%{y} · window %{x}<br>" + fmt + "<extra></extra>",
        )
    )
    fig.layout = go.Layout(
        **_layout(
            height=max(200, 34 * len(features) + 110),
            margin={"l": 8, "r": 8, "t": 40, "b": 8},
            xaxis=DATE_AXIS,
            yaxis={"type": "category", "showgrid": False, "autorange": "reversed"},
        ),
        annotations=[
            {
                "text": wrapped(f"Colour: {title}, from 0 (light) to {zmax:g} (dark) · ! = drift"),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 1.02,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        ],
    )
    return fig


def distribution(
    labels: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    *,
    feature: str,
    window: str,
) -> go.Figure:
    """Share of rows per bin (numeric) or category, reference vs the chosen window."""
    fig = go.Figure()
    for name, shares, colour in (
        ("Reference", reference, "#94a3b8"),
        (f"Window {window}", current, "#16325c"),
    ):
        fig.add_trace(
            go.Bar(
                name=name,
                x=[plain(label) for label in labels],
                y=list(shares),
                marker={"color": colour},
                hovertemplate="%{x}<br>" + name + ": %{y:.1%}<extra></extra>",
            )
        )
    fig.layout = go.Layout(
        **_layout(
            height=340,
            barmode="group",
            xaxis={"type": "category", "title": {"text": plain(feature)}},
            yaxis={
                "tickformat": ".0%",
                "gridcolor": GRID_COLOUR,
                "title": {"text": "Share of rows"},
            },
        )
    )
    return fig


def performance_over_time(
    windows: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    floors: Mapping[str, float] | None = None,
    reference: Mapping[str, float] | None = None,
) -> go.Figure:
    """One line per metric across windows; the band between each metric's floor (the
    alert threshold) and its reference value is shaded, the floor dashed."""
    fig = go.Figure()
    floors, reference = floors or {}, reference or {}
    for metric, values in series.items():
        colour = METRIC_COLOURS.get(metric, "#64748b")
        label = METRIC_LABELS.get(metric, metric)
        if metric in floors and metric in reference and windows:
            fig.add_trace(
                go.Scatter(
                    x=[windows[0], windows[-1], windows[-1], windows[0]],
                    y=[floors[metric], floors[metric], reference[metric], reference[metric]],
                    fill="toself",
                    fillcolor="rgba(148,163,184,0.15)",
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
        if metric in floors and windows:
            fig.add_trace(
                go.Scatter(
                    name=f"{label} floor ({floors[metric]:.3f})",
                    x=[windows[0], windows[-1]],
                    y=[floors[metric]] * 2,
                    mode="lines",
                    line={"color": colour, "dash": "dash", "width": 1},
                    hovertemplate=f"{label} floor: {floors[metric]:.3f}<extra></extra>",
                )
            )
        fig.add_trace(
            go.Scatter(
                name=label,
                x=list(windows),
                y=list(values),
                mode="lines+markers",
                connectgaps=False,
                line={"color": colour, "width": 2},
                marker={"size": 4},
                hovertemplate="window %{x}<br>" + label + ": %{y:.3f}<extra></extra>",
            )
        )
    fig.layout = go.Layout(
        **_layout(
            height=380,
            xaxis=DATE_AXIS,
            yaxis={"range": [0, 1.02], "gridcolor": GRID_COLOUR},
        )
    )
    return fig
