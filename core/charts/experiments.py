"""Plotly figures of experiments (issue #7): accrual against the plan while running,
the metric per arm with confidence bands after the end. Pure: plain dicts in, figures
out; drawn by ``static/js/charts.js`` under the strict CSP."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from core import experiment_stats as st
from core.charts.base import base_layout, wrapped

ARM_COLOURS = {"champion": "#5b7aa6", "challenger": "#c2410c", "pairs": "#5b7aa6"}


def accrual_figure(accrual: dict[str, Any]) -> go.Figure:
    """Progress against the plan: units per arm (or pairs) and days, in percent of
    what the protocol planned, with the planned count in the hover text."""
    labels, values, texts, colours = [], [], [], []
    for key, planned in accrual["planned"].items():
        seen = accrual["observed"].get(key, 0)
        labels.append(f"{key} units")
        values.append(100.0 * seen / planned if planned else 0.0)
        texts.append(f"{seen:,} of {planned:,}")
        colours.append(ARM_COLOURS.get(key, "#5b7aa6"))
    if accrual.get("planned_days"):
        days = accrual.get("days_elapsed") or 0.0
        labels.append("days")
        values.append(100.0 * days / accrual["planned_days"])
        texts.append(f"{days:.1f} of {accrual['planned_days']} days")
        colours.append("#6b7280")
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            text=texts,
            textposition="auto",
            marker={"color": colours},
            hovertemplate="%{y}: %{text} (%{x:.0f}% of plan)<extra></extra>",
        )
    )
    top = max([100.0, *values]) * 1.05
    fig.layout = go.Layout(
        **base_layout(
            height=80 + 44 * len(labels),
            margin={"l": 8, "r": 8, "t": 8, "b": 36},
            xaxis={"title": "% of the plan", "range": [0, top], "gridcolor": "#e5e7eb"},
            yaxis={"autorange": "reversed"},
            shapes=[
                {
                    "type": "line",
                    "x0": 100,
                    "x1": 100,
                    "y0": -0.5,
                    "y1": len(labels) - 0.5,
                    "line": {"dash": "dot", "color": "#1f2937"},
                }
            ],
        )
    )
    return fig


def result_figure(arms: dict[str, dict[str, Any]], *, metric: str, confidence: float) -> go.Figure:
    """The primary metric per arm with its confidence band (error bars)."""
    names = [a for a in st.ARMS if arms.get(a, {}).get("estimate") is not None]
    est = [arms[a]["estimate"] for a in names]
    fig = go.Figure(
        go.Scatter(
            x=names,
            y=est,
            mode="markers",
            marker={"size": 14, "color": [ARM_COLOURS[a] for a in names]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [arms[a]["ci_high"] - arms[a]["estimate"] for a in names],
                "arrayminus": [arms[a]["estimate"] - arms[a]["ci_low"] for a in names],
                "thickness": 2,
                "width": 12,
            },
            text=[f"n = {arms[a]['n']:,}" for a in names],
            hovertemplate="%{x}: %{y:.4g} (%{text})<extra></extra>",
        )
    )
    fig.layout = go.Layout(
        **base_layout(
            height=280,
            margin={"l": 8, "r": 8, "t": 8, "b": 36},
            yaxis={
                "title": {"text": wrapped(f"{metric} ({confidence:.0%} interval)")},
                "gridcolor": "#e5e7eb",
            },
        )
    )
    return fig
