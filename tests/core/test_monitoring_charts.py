"""Monitoring figures keep room for their axis labels (feature names, dates, rates): the
small default margins clipped them until the axes were told to make room."""

from core.charts import monitoring as charts


def test_the_heatmap_axes_make_room_for_their_labels():
    fig = charts.drift_heatmap(
        ["2026-01-01", "2026-01-02"],
        ["income", "months_at_address"],
        [[0.01, 0.3], [0.02, 0.05]],
        threshold=0.2,
        drifted=[[False, True], [False, False]],
    )
    assert fig.layout.xaxis.automargin is True and fig.layout.yaxis.automargin is True
    assert fig.data[0].showscale is False  # the colour bar's inline styles break the CSP
    assert "Colour: PSI" in fig.layout.annotations[0].text


def test_the_performance_chart_draws_floors_and_band_on_a_date_axis():
    """Issue 18: on a category axis the band and floor traces (first and last window
    only) came first, so the windows in between were put after the last date and the
    band collapsed to the left. On a date axis every x is placed by its date."""
    windows = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    fig = charts.performance_over_time(
        windows,
        {"accuracy": [0.9, 0.88, None, 0.8]},
        floors={"accuracy": 0.85},
        reference={"accuracy": 0.91},
    )
    assert fig.layout.xaxis.type == "date"
    band, floor, line = fig.data
    assert band.fill == "toself"
    assert list(band.x) == [windows[0], windows[-1], windows[-1], windows[0]]
    assert list(floor.x) == [windows[0], windows[-1]] and list(floor.y) == [0.85, 0.85]
    assert list(line.x) == windows
    # the legend sits above the plot, where it cannot cover the dates or the lines
    assert fig.layout.legend.y >= 1 and fig.layout.legend.yanchor == "bottom"


def test_the_drift_heatmap_puts_windows_on_a_date_axis_and_wraps_its_key():
    windows = [f"2026-01-{d:02d}" for d in range(1, 31)]
    fig = charts.drift_heatmap(windows, ["income"], [[0.01] * 30], threshold=0.2)
    assert fig.layout.xaxis.type == "date"
    key = fig.layout.annotations[0].text
    assert "<br>" in key and max(len(part) for part in key.split("<br>")) <= 28
