"""The base layout every chart extends keeps labels inside the figure at a phone's width
(issue 18): both axes make room for their labels, the legend sits above the plot area
(plotly.js grows the top margin to fit it), and a chart's own axis and legend settings
are merged over these rather than replacing them."""

from core.charts import bias, experiments, governance, kpis
from core.charts.base import base_layout, wrapped


def test_axis_and_legend_settings_merge_over_the_shared_ones():
    layout = base_layout(xaxis={"type": "date"}, legend={"x": 0.5}, height=200)
    assert layout["xaxis"] == {"automargin": True, "type": "date"}
    assert layout["yaxis"] == {"automargin": True}
    assert layout["legend"]["x"] == 0.5 and layout["legend"]["yanchor"] == "bottom"
    assert layout["height"] == 200
    # the shared settings are not changed by a chart's overrides
    assert base_layout()["xaxis"] == {"automargin": True}


def test_an_explicit_automargin_false_is_kept():
    assert base_layout(yaxis={"automargin": False})["yaxis"]["automargin"] is False


def test_wrapped_breaks_long_text_at_spaces_and_escapes_markup():
    text = wrapped("a <b>long</b> metric name that goes on and on", 12)
    assert "<b>" not in text and "&lt;b&gt;long&lt;/b&gt;" in text
    assert all(len(line) <= 30 for line in text.split("<br>")) and text.count("<br>") >= 2
    assert wrapped("") == ""


def test_experiment_charts_make_room_for_their_labels():
    accrual = experiments.accrual_figure(
        {"planned": {"champion": 100, "challenger": 100}, "observed": {"champion": 40}}
    )
    assert accrual.layout.yaxis.automargin is True and accrual.layout.xaxis.automargin is True
    arms = {
        a: {"estimate": 0.6, "ci_low": 0.55, "ci_high": 0.65, "n": 100}
        for a in ("champion", "challenger")
    }
    result = experiments.result_figure(
        arms, metric="suggested topic kept by the agent", confidence=0.95
    )
    title = result.layout.yaxis.title.text
    assert "<br>" in title and "(95% interval)" in title.replace("<br>", " ")
    assert result.layout.yaxis.automargin is True


def test_legends_sit_above_the_plot_in_every_chart_that_has_one():
    block = {
        "groups": [
            {
                "label": label,
                "small_group": small,
                "count": 10,
                "metrics": {
                    m: {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 10}
                    for m in ("selection_rate", "tpr", "fpr")
                },
            }
            for label, small in (("A", False), ("B", True))
        ],
        "reference": {"group": "A"},
    }
    figures = [
        bias.group_rates(block, favourable_prediction=0),
        governance.findings_ageing({"0-30 days": {"low": 1, "high": 2}}),
        kpis.kpi_trend(["2026-01-01"], {"One": [1], "Two": [2]}, y_title="n"),
        kpis.cell_bars(["a"], {"Waivers": [1], "Findings": [2]}),
    ]
    for fig in figures:
        assert fig.layout.legend.y >= 1 and fig.layout.legend.yanchor == "bottom"
    # the four-fifths line's legend entry is short; its sentence is in the hover text
    line = figures[0].data[-1]
    assert line.name.startswith("Four-fifths line (") and len(line.name) < 30
    assert "favourable rate" in line.hovertemplate


def test_group_names_in_the_tpr_fpr_chart_stay_inside_the_plot_area():
    def group(label, tpr, fpr):
        return {
            "label": label,
            "small_group": label == "small",
            "count": 5,
            "metrics": {
                "tpr": {"value": tpr, "ci_low": None, "ci_high": None, "n": 5},
                "fpr": {"value": fpr, "ci_low": None, "ci_high": None, "n": 5},
            },
        }

    block = {
        "groups": [group("small", 1.0, 0.5), group("edge", 0.5, 0.95), group("mid", 0.5, 0.02)]
    }
    points = bias.tpr_fpr(block).data[1]
    assert list(points.textposition) == ["bottom center", "top left", "top right"]
