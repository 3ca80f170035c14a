"""Plotly figures for the dashboard's pages, one module per part of the product.

Pure functions: plain dicts, lists and numbers in (what selectors return), a Plotly
figure out; no database, no Django. A view passes ``json.loads(fig.to_json())`` to its
template and ``static/js/charts.js`` draws it with the vendored plotly.js strict bundle
(no inline script, strict CSP)."""


def warm_up() -> None:
    """Import what plotly imports lazily, once, at start-up.

    plotly looks pandas up on the first figure it validates. Two threads of one web
    process building their first figures at once could meet a half-imported pandas
    (``AttributeError: partially initialized module 'pandas' has no attribute 'Series'``:
    a 500 on the home page under the load test). The dashboard app calls this in
    ``ready()``, before any request thread exists."""
    from _plotly_utils.optional_imports import get_module

    for name in ("numpy", "pandas"):
        get_module(name)
