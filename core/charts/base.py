"""What every figure shares: the dashboard's font, text and grid colours, and a base
layout (transparent background, small margins) that each chart extends."""

FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
TEXT_COLOUR = "#1f2937"
GRID_COLOUR = "#e5e7eb"


def plain(value) -> str:
    """A value from the data (a group, a feature, a category, a name someone typed) as
    text Plotly shows as written: plotly.js reads tags such as ``<a href>`` in any
    label as markup (a clickable link inside the chart; issue 13), and decodes
    ``&lt;``/``&gt;``/``&amp;`` back into the characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def base_layout(**overrides) -> dict:
    """The dashboard's Plotly layout with ``overrides`` applied on top."""
    layout = {
        "template": "none",
        "font": {"family": FONT_FAMILY, "size": 13, "color": TEXT_COLOUR},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "hoverlabel": {"font": {"family": FONT_FAMILY}},
    }
    layout.update(overrides)
    return layout
