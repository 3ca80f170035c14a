"""What every figure shares: the dashboard's font, text and grid colours, and a base
layout (transparent background, small margins) that each chart extends.

The base layout also keeps labels inside the figure at any width (issue 18): both axes
make room for their tick labels and titles (``automargin``), and the legend sits above
the plot area, where plotly.js grows the top margin to fit it however many rows it
wraps into, so it never covers tick labels, titles or bars. A chart's own axis and
legend settings are merged over these."""

import textwrap

FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
TEXT_COLOUR = "#1f2937"
GRID_COLOUR = "#e5e7eb"

LEGEND_ABOVE = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}
MERGED = {
    "legend": LEGEND_ABOVE,
    "xaxis": {"automargin": True},
    "yaxis": {"automargin": True},
}


def plain(value) -> str:
    """A value from the data (a group, a feature, a category, a name someone typed) as
    text Plotly shows as written: plotly.js reads tags such as ``<a href>`` in any
    label as markup (a clickable link inside the chart; issue 13), and decodes
    ``&lt;``/``&gt;``/``&amp;`` back into the characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wrapped(value, width: int = 28) -> str:
    """``plain(value)`` broken into lines of at most ``width`` characters (at spaces):
    Plotly never wraps a title or annotation, so a long one would leave a phone's
    narrow chart."""
    lines = textwrap.wrap(str(value), width, break_long_words=False, break_on_hyphens=False)
    return "<br>".join(plain(line) for line in lines or [""])


def base_layout(**overrides) -> dict:
    """The dashboard's Plotly layout with ``overrides`` applied on top (the legend's
    and the axes' settings merged into the shared ones)."""
    layout = {
        "template": "none",
        "font": {"family": FONT_FAMILY, "size": 13, "color": TEXT_COLOUR},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "hoverlabel": {"font": {"family": FONT_FAMILY}},
        **{key: dict(value) for key, value in MERGED.items()},
    }
    for key, value in overrides.items():
        if key in MERGED and isinstance(value, dict):
            layout[key] = {**MERGED[key], **value}
        else:
            layout[key] = value
    return layout
