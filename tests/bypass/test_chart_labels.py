"""A value from the data is shown as text in a chart, never as markup (issue 13: a
group value ``<a href=...>`` became a clickable link inside the Plotly SVG)."""

import json
import re

import numpy as np
import pytest
from django.urls import reverse

from tests.fairness.test_bias_services import csv_bytes, done_summary, scored_frame

pytestmark = pytest.mark.django_db

LINK = "<a href=https://evil.example/>B</a>"


def chart_data(html: str) -> list[dict]:
    scripts = re.findall(
        r'<script id="chart-[^"]+-data" type="application/json">(.*?)</script>', html
    )
    return [json.loads(s) for s in scripts]


def test_a_link_in_a_group_value_is_shown_as_text(client_for, data_scientist, version, media):
    frame = scored_frame()
    frame["race"] = np.where(frame["race"] == "B", LINK, frame["race"])
    summary = done_summary(version, data_scientist, data=csv_bytes(frame))
    assert summary.status == "done", summary.error if hasattr(summary, "error") else summary
    response = client_for(data_scientist).get(reverse("fairness:bias-summary", args=[summary.pk]))
    assert response.status_code == 200
    figures = chart_data(response.content.decode())
    assert figures
    labels = [
        str(value)
        for figure in figures
        for trace in figure["data"]
        for key in ("x", "y", "text", "name")
        for value in (
            trace.get(key) or [] if isinstance(trace.get(key), list) else [trace.get(key)]
        )
        if value is not None
    ]
    assert not [label for label in labels if "<a" in label]
    assert any("&lt;a href=https://evil.example/&gt;B&lt;/a&gt;" in label for label in labels)
