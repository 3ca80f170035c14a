"""Plotly figures for the dashboard pages.

Pure functions: they turn selector output (plain dicts and numbers) into a Plotly
figure and never touch the database, so they are tested without one. The view
passes ``json.loads(fig.to_json())`` to the template, and ``static/js/charts.js``
draws it with the vendored plotly.js strict bundle (no inline script, strict CSP).
"""

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

import plotly.graph_objects as go

from core.charts.base import base_layout, wrapped

# Neutral slate to the dashboard's navy: a count is not good or bad by itself.
HEATMAP_SCALE = [[0.0, "#f8fafc"], [0.25, "#dbe4f0"], [0.6, "#5b7aa6"], [1.0, "#16325c"]]

# Short axis labels of the criticality levels (1-4, the book's Figure 8-1).
CRITICALITY_SHORT = {1: "1 · Ad-hoc", 2: "2 · Scheduled", 3: "3 · Monitored", 4: "4 · Operational"}


def portfolio_heatmap(
    matrix: Mapping[tuple[int, int], int],
    *,
    levels: Sequence[tuple[int, str]] = tuple(CRITICALITY_SHORT.items()),
    tiers: Sequence[tuple[int, str]],
    list_url: str | None = None,
) -> go.Figure:
    """Use-case counts by criticality level (rows, 1 at the bottom) x risk tier (columns).

    Args:
        matrix: {(criticality, tier): count}; missing cells count as 0.
        levels, tiers: (value, label) pairs, in axis order.
        list_url: when given, each cell carries a link to that list filtered to the
            cell (``?criticality=..&risk_tier=..``), followed on click by charts.js.
    """
    x_labels = [label for _, label in tiers]
    y_labels = [label for _, label in levels]
    z = [[int(matrix.get((level, tier), 0)) for tier, _ in tiers] for level, _ in levels]
    text = [[str(n) if n else "" for n in row] for row in z]
    links = [
        [
            f"{list_url}?{urlencode({'criticality': level, 'risk_tier': tier})}" if list_url else ""
            for tier, _ in tiers
        ]
        for level, _ in levels
    ]
    peak = max((n for row in z for n in row), default=0)
    trace = go.Heatmap(
        z=z,
        x=x_labels,
        y=y_labels,
        text=text,
        texttemplate="%{text}",
        textfont={"size": 16},
        customdata=links,
        colorscale=HEATMAP_SCALE,
        zmin=0,
        zmax=max(peak, 1),
        xgap=3,
        ygap=3,
        showscale=False,
        # No <b>/<i>/<sup> in hover text: plotly.js renders them as style="" attributes,
        # which the strict CSP (style-src 'self') blocks.
        hovertemplate="Criticality %{y}<br>Risk tier %{x}<br>%{z} use case(s)<extra></extra>",
    )
    fig = go.Figure(trace)
    fig.layout = go.Layout(
        base_layout(
            height=380,
            xaxis={
                "title": {"text": "Risk tier", "standoff": 12},
                "automargin": True,
                "side": "bottom",
                "showgrid": False,
                "fixedrange": True,
            },
            yaxis={
                "title": {"text": "Criticality level", "standoff": 14},
                "automargin": True,
                "showgrid": False,
                "fixedrange": True,
                "ticksuffix": "  ",
            },
        )
    )
    return fig


# --- Step 4: the policy matrix ----------------------------------------------------------

# Measure levels none < light < medium < strict, from pale to the dashboard's navy.
POLICY_LEVELS = (("none", "None"), ("light", "Light"), ("medium", "Medium"), ("strict", "Strict"))
POLICY_LEVEL_COLOURS = ("#f1f5f9", "#c7d5ea", "#5b7aa6", "#16325c")


def policy_matrix_heatmap(
    cells: Mapping[tuple[int, str], str | None],
    *,
    considerations: Sequence[tuple[str, str]],
    tiers: Sequence[tuple[int, str]],
) -> go.Figure:
    """A policy version's matrix: considerations (rows, first on top) x risk tiers
    (columns), each cell coloured and labelled by its measure level.

    Args:
        cells: {(tier, consideration code): level}; a missing cell is left blank.
        considerations: (code, name) pairs, in display order.
    """
    ranks = {code: i for i, (code, _) in enumerate(POLICY_LEVELS)}
    labels = dict(POLICY_LEVELS)
    rows = list(reversed(considerations))
    z = [[ranks.get(cells.get((tier, code)) or "") for tier, _ in tiers] for code, _ in rows]
    text = [
        [labels.get(cells.get((tier, code)) or "", "") for tier, _ in tiers] for code, _ in rows
    ]
    n = len(POLICY_LEVELS)
    # A stepped scale: each level gets one flat band of colour.
    scale = []
    for i, colour in enumerate(POLICY_LEVEL_COLOURS):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    trace = go.Heatmap(
        z=z,
        x=[label for _, label in tiers],
        # Names on two or three short lines leave a phone's narrow chart room for cells.
        y=[wrapped(name, 14) for _, name in rows],
        text=text,
        texttemplate="%{text}",
        textfont={"size": 11},
        colorscale=scale,
        zmin=-0.5,
        zmax=n - 0.5,
        xgap=3,
        ygap=3,
        showscale=False,
        hovertemplate="%{y}<br>Risk tier %{x}<br>Measure level: %{text}<extra></extra>",
    )
    fig = go.Figure(trace)
    fig.layout = go.Layout(
        base_layout(
            height=max(320, 52 * len(rows) + 80),
            xaxis={
                "title": {"text": "Risk tier", "standoff": 12},
                "automargin": True,
                "side": "top",
                "showgrid": False,
                "fixedrange": True,
            },
            yaxis={"automargin": True, "showgrid": False, "fixedrange": True, "ticksuffix": "  "},
        )
    )
    return fig


SEVERITY_COLOURS = {
    "low": "#9fb3c8",
    "medium": "#e0a526",
    "high": "#d9622b",
    "critical": "#a61b1b",
}


def findings_ageing(ageing: Mapping[str, Mapping[str, int]]) -> go.Figure:
    """Stacked bars: findings still to deal with, by age since opening (x) and
    severity (stacks), from ``core.finding_rules.ageing``."""
    buckets = list(ageing)
    severities = list(next(iter(ageing.values()), {}).keys()) if ageing else []
    fig = go.Figure()
    for severity in severities:
        fig.add_trace(
            go.Bar(
                name=severity.capitalize(),
                x=buckets,
                y=[ageing[b][severity] for b in buckets],
                marker={"color": SEVERITY_COLOURS.get(severity, "#5b7aa6")},
                hovertemplate=f"{severity}: %{{y}} finding(s) aged %{{x}}<extra></extra>",
            )
        )
    fig.update_layout(
        **base_layout(
            barmode="stack",
            height=280,
            margin={"l": 40, "r": 8, "t": 8, "b": 40},
            xaxis={"title": {"text": "Age since opened"}},
            yaxis={"title": {"text": "Findings"}, "rangemode": "tozero"},
        )
    )
    return fig
