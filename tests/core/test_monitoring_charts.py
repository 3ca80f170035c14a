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
