"""Plotly figures for the dashboard's pages, one module per part of the product.

Pure functions: plain dicts, lists and numbers in (what selectors return), a Plotly
figure out; no database, no Django. A view passes ``json.loads(fig.to_json())`` to its
template and ``static/js/charts.js`` draws it with the vendored plotly.js strict bundle
(no inline script, strict CSP)."""
