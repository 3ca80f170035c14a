"""Outcomes of an experiment as plain values (core.experiment_outcomes): the CSV parser,
the row checks and their messages, without Django."""

import pytest

from core import experiment_outcomes as eo
from core.experiment_stats import assign_arm

SPLIT = {"champion": 50.0, "challenger": 50.0}
AB = eo.OutcomeLayout(
    paired=False,
    metric_kind="proportion",
    salt="s1",
    split=SPLIT,
    guardrails={"latency": "mean", "complaint": "proportion"},
)
SHADOW = eo.OutcomeLayout(paired=True, metric_kind="mean", guardrails={"latency": "mean"})


def arm_of(key: str) -> str:
    return assign_arm("s1", key, SPLIT)


def other(arm: str) -> str:
    return "challenger" if arm == "champion" else "champion"


def test_layout_of_a_stored_protocol():
    protocol = {
        "split": SPLIT,
        "guardrails": [
            {"name": "latency", "metric_kind": "mean", "tolerance": 5.0},
            {"name": "complaint", "metric_kind": "proportion", "tolerance": 0.01},
        ],
    }
    layout = eo.OutcomeLayout.of(
        design="ab", metric_kind="proportion", salt="s1", protocol=protocol
    )
    assert layout == AB
    assert list(layout.guardrails) == ["latency", "complaint"]
    shadow = eo.OutcomeLayout.of(design="shadow", metric_kind="mean", salt="x", protocol={})
    assert shadow.paired and shadow.split is None and dict(shadow.guardrails) == {}


def test_csv_columns():
    assert eo.csv_columns(AB) == ["entity_key", "arm", "outcome", "latency", "complaint"]
    assert eo.csv_columns(SHADOW) == [
        "entity_key",
        "champion_outcome",
        "challenger_outcome",
        "latency.champion",
        "latency.challenger",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("  ", None), ("1", 1.0), (" 2.5 ", 2.5), (3, 3.0), (0.25, 0.25)],
)
def test_parse_number(value, expected):
    assert eo.parse_number(value) == expected


@pytest.mark.parametrize("value", [True, "x", "nan", "inf", float("inf"), [1], {"a": 1}])
def test_parse_number_refuses(value):
    with pytest.raises(ValueError):
        eo.parse_number(value)


def test_clean_row_ab():
    arm = arm_of("u1")
    row = {"entity_key": " u1 ", "arm": arm, "outcome": "1", "guardrails": {"latency": "120"}}
    assert eo.clean_row(AB, row) == {
        "entity_key": "u1",
        "arm": arm,
        "guardrails": {"latency": 120.0},
        "outcome": 1.0,
    }
    # an integer key is text; a missing outcome or guardrail is None / left out
    key = 42
    row = {"entity_key": key, "arm": arm_of("42"), "outcome": "", "guardrails": {"latency": ""}}
    assert eo.clean_row(AB, row) == {
        "entity_key": "42",
        "arm": arm_of("42"),
        "guardrails": {},
        "outcome": None,
    }


def test_clean_row_shadow():
    row = {
        "entity_key": "r1",
        "champion_outcome": "0.5",
        "challenger_outcome": 0.75,
        "guardrails": {"latency": {"champion": "10", "challenger": None}},
    }
    assert eo.clean_row(SHADOW, row) == {
        "entity_key": "r1",
        "arm": "",
        "guardrails": {"latency": {"champion": 10.0, "challenger": None}},
        "champion_outcome": 0.5,
        "challenger_outcome": 0.75,
    }
    row = {"entity_key": "r2", "guardrails": {"latency": {"champion": "", "challenger": None}}}
    assert eo.clean_row(SHADOW, row)["guardrails"] == {}


@pytest.mark.parametrize(
    ("layout", "row", "message"),
    [
        (AB, ["u1"], "must be an object"),
        (AB, {"entity_key": "  "}, "entity_key: an unknown unit (empty key)"),
        (AB, {"entity_key": True}, "entity_key: an unknown unit (empty key)"),
        (AB, {"entity_key": "k" * 201}, "entity_key: longer than 200 characters"),
        (AB, {"entity_key": "u1", "arm": "B"}, "arm: unknown arm 'B'; use champion or challenger"),
        (
            AB,
            {"entity_key": "u1", "arm": arm_of("u1"), "outcome": "yes"},
            "outcome: not a number: 'yes'",
        ),
        (
            AB,
            {"entity_key": "u1", "arm": arm_of("u1"), "outcome": "0.5"},
            "outcome: a proportion's outcome is 0 or 1, not 0.5",
        ),
        (
            AB,
            {"entity_key": "u1", "arm": arm_of("u1"), "outcome": 1, "guardrails": [1]},
            "guardrails: must be an object of guardrail values",
        ),
        (
            AB,
            {"entity_key": "u1", "arm": arm_of("u1"), "outcome": 1, "guardrails": {"cpu": 1}},
            "guardrails: 'cpu' is not a registered guardrail",
        ),
        (
            AB,
            {"entity_key": "u1", "arm": arm_of("u1"), "outcome": 1, "guardrails": {"latency": "?"}},
            "guardrails.latency: not a number: '?'",
        ),
        (
            AB,
            {"entity_key": "u1", "arm": arm_of("u1"), "outcome": 0, "guardrails": {"complaint": 2}},
            "guardrails.complaint: a proportion guardrail is 0 or 1, not 2",
        ),
        (
            SHADOW,
            {"entity_key": "r1", "arm": "champion"},
            "arm: a shadow comparison has no arms (both models score each unit)",
        ),
        (
            SHADOW,
            {"entity_key": "r1", "champion_outcome": "a"},
            "champion_outcome: not a number: 'a'",
        ),
        (
            SHADOW,
            {"entity_key": "r1", "champion_outcome": "1"},
            "give both models' outcomes for a unit, or neither (missing)",
        ),
        (
            SHADOW,
            {"entity_key": "r1", "guardrails": {"latency": 5}},
            "guardrails.latency.champion: not a number: 'bad'",
        ),
    ],
)
def test_clean_row_messages(layout, row, message):
    with pytest.raises(ValueError) as info:
        eo.clean_row(layout, row)
    assert str(info.value) == message


def test_clean_row_names_the_assigned_arm():
    arm = arm_of("u7")
    with pytest.raises(ValueError) as info:
        eo.clean_row(AB, {"entity_key": "u7", "arm": other(arm), "outcome": 1})
    assert str(info.value) == f"arm: unit 'u7' is assigned to the {arm}, not the {other(arm)}"


def test_clean_row_shadow_proportion():
    layout = eo.OutcomeLayout(paired=True, metric_kind="proportion")
    with pytest.raises(ValueError) as info:
        eo.clean_row(layout, {"entity_key": "r", "champion_outcome": 1, "challenger_outcome": 3})
    assert str(info.value) == "challenger_outcome: a proportion's outcome is 0 or 1, not 3"


def test_clean_rows():
    good = {"entity_key": "u1", "arm": arm_of("u1"), "outcome": 1}
    cleaned, errors = eo.clean_rows(AB, [good, {**good, "entity_key": "u2", "arm": arm_of("u2")}])
    assert errors == {} and [r["entity_key"] for r in cleaned] == ["u1", "u2"]
    assert eo.clean_rows(AB, []) == ([], {"rows": "The batch is empty."})
    assert eo.clean_rows(AB, {"rows": []}) == ([], {"rows": "The batch is empty."})
    assert eo.clean_rows(AB, [good] * 3, max_rows=2) == ([], {"rows": "At most 2 rows per batch."})
    bad = {"entity_key": ""}
    cleaned, errors = eo.clean_rows(AB, [good, bad, good, bad])
    assert cleaned == []
    assert errors == {
        "rows": [
            "Row 2: entity_key: an unknown unit (empty key)",
            "Row 4: entity_key: an unknown unit (empty key)",
        ]
    }


def test_clean_rows_stops_after_max_errors():
    _, errors = eo.clean_rows(AB, [{"entity_key": ""}] * 10, max_errors=3)
    assert errors["rows"] == [
        "Row 1: entity_key: an unknown unit (empty key)",
        "Row 2: entity_key: an unknown unit (empty key)",
        "Row 3: entity_key: an unknown unit (empty key)",
        "(further rows not checked)",
    ]


def test_parse_csv_ab():
    data = (
        "\ufeffentity_key, arm ,outcome,latency\r\nu1,champion,1,120\r\n\r\nu2, challenger ,,\r\n"
    ).encode()
    rows, errors = eo.parse_csv(AB, data)
    assert errors == {}
    assert rows == [
        {"entity_key": "u1", "arm": "champion", "outcome": "1", "guardrails": {"latency": "120"}},
        {"entity_key": "u2", "arm": "challenger", "outcome": "", "guardrails": {}},
    ]


def test_parse_csv_shadow():
    data = (
        b"entity_key,champion_outcome,challenger_outcome,latency.champion,latency.challenger\n"
        b"r1,0.5,0.7,10,\n"
        b"r2,1,2,,\n"
    )
    rows, errors = eo.parse_csv(SHADOW, data)
    assert errors == {}
    assert rows == [
        {
            "entity_key": "r1",
            "champion_outcome": "0.5",
            "challenger_outcome": "0.7",
            "guardrails": {"latency": {"champion": "10", "challenger": None}},
        },
        {"entity_key": "r2", "champion_outcome": "1", "challenger_outcome": "2", "guardrails": {}},
    ]
    # the parsed rows are what clean_rows checks
    cleaned, errors = eo.clean_rows(SHADOW, rows)
    assert errors == {} and cleaned[0]["guardrails"] == {
        "latency": {"champion": 10.0, "challenger": None}
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"entity_key,arm,outcome\n\xff\n", "Not UTF-8 text (byte 23)."),
        (
            b"entity_key,outcome,cpu\nu1,1,2\n",
            "Missing column(s) arm; unknown column(s) cpu. "
            "Expected: entity_key, arm, outcome, latency, complaint.",
        ),
        (b"entity_key,arm,outcome,outcome\n", "A column appears twice in the header."),
        (b"entity_key,arm,outcome\nu1,champion\n", "Line 2: 2 cells for 3 columns."),
        (b"entity_key,arm,outcome\n\n,,\n", "The file has a header but no rows."),
    ],
)
def test_parse_csv_errors(data, message):
    assert eo.parse_csv(AB, data) == ([], {"file": message})


def test_parse_csv_limits():
    data = b"entity_key,arm,outcome\nu1,champion,1\nu2,champion,0\nu3,champion,1\n"
    assert eo.parse_csv(AB, data, max_rows=3)[1] == {}
    assert eo.parse_csv(AB, data, max_rows=2) == ([], {"file": "At most 2 rows per file."})
    assert eo.parse_csv(AB, b"x" * (2 * 2**20 + 1), max_bytes=2 * 2**20) == (
        [],
        {"file": "The file is larger than 2 MB."},
    )
