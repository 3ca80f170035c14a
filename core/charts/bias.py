"""Plotly figures of a bias summary (issue #5). Pure: they take the stored summary
(plain dicts from ``core.fairness.summarise``) and return figures; no Django, no
database. Drawn by ``static/js/charts.js`` under the strict CSP (no <b>/<i> in hover
text: plotly renders them with style attributes the CSP blocks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from core.charts.base import GRID_COLOUR, base_layout, plain

METRIC_COLOURS = {
    "selection_rate": "#16325c",
    "tpr": "#5b7aa6",
    "fpr": "#c2410c",
    "precision": "#0f766e",
}
METRIC_LABELS = {
    "selection_rate": "Selection rate",
    "base_rate": "Base rate",
    "tpr": "True-positive rate",
    "fpr": "False-positive rate",
    "fnr": "False-negative rate",
    "precision": "Precision",
    "accuracy": "Accuracy",
}
HEATMAP_SCALE = [[0.0, "#f8fafc"], [0.3, "#dbe4f0"], [0.65, "#5b7aa6"], [1.0, "#16325c"]]
FOUR_FIFTHS = 0.8


def _layout(**overrides) -> dict:
    return base_layout(**{"margin": {"l": 8, "r": 8, "t": 30, "b": 8}, **overrides})


def _group_name(group: Mapping) -> str:
    label = plain(group["label"])
    return f"{label} (small)" if group.get("small_group") else label


def _errors(groups: Sequence[Mapping], metric: str) -> tuple[list, list, list]:
    values, plus, minus = [], [], []
    for g in groups:
        m = g["metrics"][metric]
        v = m["value"]
        values.append(v)
        plus.append(None if v is None or m["ci_high"] is None else m["ci_high"] - v)
        minus.append(None if v is None or m["ci_low"] is None else v - m["ci_low"])
    return values, plus, minus


def group_rates(
    block: Mapping,
    *,
    metrics: Sequence[str] = ("selection_rate", "tpr", "fpr"),
    favourable_prediction: int = 1,
) -> go.Figure:
    """Per-group rates of one attribute (or intersection) with 95% Wilson intervals as
    error bars, and the four-fifths line: the selection rate a group must stay above
    (or, when prediction 1 is adverse, below) to keep 80% of the reference's rate."""
    groups = list(block["groups"])
    names = [_group_name(g) for g in groups]
    fig = go.Figure()
    for metric in metrics:
        values, plus, minus = _errors(groups, metric)
        counts = [g["metrics"][metric]["n"] for g in groups]
        fig.add_trace(
            go.Bar(
                name=METRIC_LABELS[metric],
                x=names,
                y=values,
                marker={"color": METRIC_COLOURS.get(metric, "#64748b")},
                error_y={
                    "type": "data",
                    "array": plus,
                    "arrayminus": minus,
                    "visible": True,
                    "color": "#334155",
                    "thickness": 1.2,
                    "width": 3,
                },
                customdata=counts,
                hovertemplate="%{x}<br>"
                + METRIC_LABELS[metric]
                + ": %{y:.3f}<br>n = %{customdata}<extra></extra>",
            )
        )
    ref_label = (block.get("reference") or {}).get("group")
    ref = next((g for g in groups if g["label"] == ref_label), None)
    ref_rate = ref["metrics"]["selection_rate"]["value"] if ref else None
    if ref_rate is not None and "selection_rate" in metrics:
        ref_label = plain(ref_label)
        if favourable_prediction == 1:
            line = FOUR_FIFTHS * ref_rate
            text = f"Four-fifths line: 0.8 x {ref_label}'s selection rate ({line:.3f})"
        else:
            line = 1 - FOUR_FIFTHS * (1 - ref_rate)
            text = (
                f"Four-fifths line: selection rate at which the favourable rate is 0.8 x "
                f"{ref_label}'s ({line:.3f})"
            )
        fig.add_trace(
            go.Scatter(
                # The legend names the line and its value; the sentence is the hover's
                # (a phone's narrow legend cannot hold it).
                name=f"Four-fifths line ({line:.3f})",
                x=names,
                y=[line] * len(names),
                mode="lines",
                line={"color": "#b91c1c", "dash": "dash", "width": 2},
                hovertemplate=text + "<extra></extra>",
            )
        )
    fig.layout = go.Layout(
        _layout(
            height=400,
            barmode="group",
            yaxis={
                "title": {"text": "Rate (95% Wilson interval)"},
                "range": [0, 1.05],
                "gridcolor": GRID_COLOUR,
                "automargin": True,
                "fixedrange": True,
            },
            xaxis={"automargin": True, "fixedrange": True},
            margin={"l": 8, "r": 8, "t": 12, "b": 8},
        )
    )
    return fig


def _label_positions(x: Sequence[float], y: Sequence[float]) -> list[str]:
    """Where each group's name goes around its point so that it stays inside the plot
    area (plotly.js clips text at the axes): below a point near the top, to the left of
    one near the right edge, to the right of one near the left edge."""
    positions = []
    for fx, ty in zip(x, y, strict=True):
        vertical = "bottom" if ty > 0.85 else "top"
        horizontal = "left" if fx > 0.75 else "right" if fx < 0.1 else "center"
        positions.append(f"{vertical} {horizontal}")
    return positions


def tpr_fpr(block: Mapping) -> go.Figure:
    """True-positive rate against false-positive rate per group (equalized odds: equal
    rates put every group on one point), with both intervals."""
    groups = [g for g in block["groups"] if g["metrics"]["tpr"]["value"] is not None]
    groups = [g for g in groups if g["metrics"]["fpr"]["value"] is not None]
    x, xp, xm = _errors(groups, "fpr")
    y, yp, ym = _errors(groups, "tpr")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            name="Random classifier (TPR = FPR)",
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"color": "#94a3b8", "dash": "dot", "width": 1},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            name="Groups",
            x=x,
            y=y,
            mode="markers+text",
            text=[_group_name(g) for g in groups],
            textposition=_label_positions(x, y),
            marker={
                "size": [14 if not g["small_group"] else 9 for g in groups],
                "color": ["#16325c" if not g["small_group"] else "#94a3b8" for g in groups],
            },
            error_x={"type": "data", "array": xp, "arrayminus": xm, "color": "#94a3b8"},
            error_y={"type": "data", "array": yp, "arrayminus": ym, "color": "#94a3b8"},
            customdata=[g["count"] for g in groups],
            hovertemplate="%{text}<br>FPR %{x:.3f}<br>TPR %{y:.3f}<br>%{customdata} rows"
            "<extra></extra>",
        )
    )
    fig.layout = go.Layout(
        _layout(
            height=420,
            showlegend=False,
            xaxis={
                "title": {"text": "False-positive rate"},
                "range": [-0.02, 1.02],
                "gridcolor": GRID_COLOUR,
                "fixedrange": True,
                "automargin": True,
            },
            yaxis={
                "title": {"text": "True-positive rate"},
                "range": [-0.02, 1.05],
                "gridcolor": GRID_COLOUR,
                "fixedrange": True,
                "automargin": True,
            },
        )
    )
    return fig


def intersection_heatmap(block: Mapping, *, metric: str = "selection_rate") -> go.Figure:
    """A two-attribute intersection as a heatmap of one rate: rows are the first
    attribute's values, columns the second's; a cell shows the rate and its rows, and
    groups below the minimum size are marked "small"."""
    if len(block["columns"]) != 2:
        raise ValueError("a heatmap needs an intersection of exactly two attributes")
    rows = sorted({g["values"][0] for g in block["groups"]})
    cols = sorted({g["values"][1] for g in block["groups"]})
    cell = {(g["values"][0], g["values"][1]): g for g in block["groups"]}
    z, text = [], []
    for r in rows:
        zr, tr = [], []
        for c in cols:
            g = cell.get((r, c))
            v = g["metrics"][metric]["value"] if g else None
            zr.append(v)
            if g is None:
                tr.append("")
            else:
                shown = "—" if v is None else f"{v:.2f}"
                tr.append(f"{shown}<br>n={g['count']}" + (" small" if g["small_group"] else ""))
        z.append(zr)
        text.append(tr)
    trace = go.Heatmap(
        z=z,
        x=[plain(c) for c in cols],
        y=[plain(r) for r in rows],
        text=text,
        texttemplate="%{text}",
        textfont={"size": 12},
        colorscale=HEATMAP_SCALE,
        zmin=0,
        zmax=1,
        xgap=3,
        ygap=3,
        # No colour bar: plotly.js draws it with a style attribute the strict CSP blocks;
        # every cell shows its value instead.
        showscale=False,
        hovertemplate="%{y} x %{x}<br>" + METRIC_LABELS[metric] + ": %{z:.3f}<extra></extra>",
    )
    fig = go.Figure(trace)
    fig.layout = go.Layout(
        _layout(
            height=max(300, 48 * len(rows) + 110),
            xaxis={
                "title": {"text": block["columns"][1]},
                "automargin": True,
                "showgrid": False,
                "fixedrange": True,
            },
            yaxis={
                "title": {"text": block["columns"][0]},
                "automargin": True,
                "showgrid": False,
                "fixedrange": True,
                "ticksuffix": "  ",
            },
        )
    )
    return fig
