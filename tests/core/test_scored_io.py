"""Reading scored datasets: validation with column and row, CSV = Parquet, merging (#5)."""

import re
import threading

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from core.fairness import MISSING_LABEL, accumulate, summarise
from core.scored_io import (
    ColumnMapping,
    ScoredDataError,
    inspect_file,
    iter_batches,
    partial_for_row_groups,
    row_group_plan,
    summarise_file,
)
from tests.fairness.fairness_data import synthetic

MAPPING = ColumnMapping(outcome="label", prediction="pred", sensitive=["race", "sex"])
LIMIT = 10**9


def _table(n=3000, seed=1, **extra):
    data = synthetic(n=n, seed=seed, weights=True, missing=True)
    columns = {
        "id": list(range(n)),
        "race": [None if v is None or v != v else v for v in data["race"]],
        "sex": list(data["sex"]),
        "label": data["y"],
        "pred": data["yhat"],
        "score": data["score"],
        "w": data["weights"],
    }
    columns.update(extra)
    return pa.table(columns), data


def _write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def _csv(tmp_path, rows, header="label,pred,race,sex", name="data.csv"):
    return _write(tmp_path, "\n".join([header, *rows]) + "\n", name)


def _error(path, mapping=MAPPING, **opts):
    with pytest.raises(ScoredDataError) as info:
        summarise_file(path, mapping, **opts)
    return info.value


def _located(err, column, row):
    assert (err.column, err.row) == (column, row)
    text = str(err)
    assert repr(column) in text if column else True
    assert f"row {row:,}" in text.lower() if row else True
    return text


GOOD = ["1,1,A,F", "0,0,B,M", "1,0,A,M"]


# -- mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"outcome": "y", "sensitive": ["race"]}, "prediction column, or a score"),
        ({"outcome": "y", "score": "s", "sensitive": ["race"]}, "needs a threshold"),
        (
            {"outcome": "y", "prediction": "p", "threshold": 0.5, "sensitive": ["r"]},
            "needs a score",
        ),
        ({"outcome": "y", "score": "s", "threshold": 1.5, "sensitive": ["r"]}, "in [0, 1]"),
        ({"outcome": "y", "prediction": "p", "sensitive": []}, "at least one sensitive"),
        ({"outcome": "y", "prediction": "y", "sensitive": ["r"]}, "mapped twice"),
        ({"outcome": "", "prediction": "p", "sensitive": ["r"]}, "needs a name"),
    ],
)
def test_a_nonsense_mapping_is_refused(kwargs, words):
    with pytest.raises(ScoredDataError, match=re.escape(words)):
        ColumnMapping(**kwargs)


def test_mapping_round_trips_through_a_dict():
    mapping = ColumnMapping(outcome="y", score="s", threshold=0.4, sensitive=["a", "b"])
    assert ColumnMapping.from_dict(mapping.to_dict()) == mapping
    with pytest.raises(ScoredDataError, match="Unknown mapping keys: colour"):
        ColumnMapping.from_dict({**mapping.to_dict(), "colour": "red"})


# -- the file as a whole ---------------------------------------------------------------


def test_an_empty_file_is_refused(tmp_path):
    assert "empty" in str(_error(_write(tmp_path, b"")))


def test_a_header_without_rows_is_refused(tmp_path):
    assert "no data rows" in str(_error(_csv(tmp_path, [])))


def test_size_is_checked_before_parsing(tmp_path):
    path = _write(tmp_path, b"PAR1" + b"\x00" * 5000, "junk.parquet")  # not even Parquet
    err = _error(path, max_bytes=1000)
    assert "5,004 bytes, over the limit of 1,000" in str(err)
    info = inspect_file(_csv(tmp_path, GOOD), max_bytes=1000)
    assert (info.format, info.rows, info.delimiter) == ("csv", 3, ",")


def test_parquet_uncompressed_size_is_checked_from_the_metadata(tmp_path):
    table, _ = _table()
    pq.write_table(table, tmp_path / "d.parquet", compression="zstd")
    path = tmp_path / "d.parquet"
    info = inspect_file(path, max_bytes=LIMIT)
    assert info.uncompressed_size > path.stat().st_size // 2
    with pytest.raises(ScoredDataError, match="unpacks to .* over the limit"):
        inspect_file(path, max_bytes=LIMIT, max_uncompressed_bytes=info.uncompressed_size - 1)


def test_a_truncated_parquet_file_says_so(tmp_path):
    table, _ = _table()
    pq.write_table(table, tmp_path / "d.parquet")
    whole = (tmp_path / "d.parquet").read_bytes()
    err = _error(_write(tmp_path, whole[: len(whole) // 2], "cut.parquet"))
    assert "truncated" in str(err)
    damaged = whole[:4] + b"\x00" * (len(whole) - 8) + whole[-4:]
    assert "damaged" in str(_error(_write(tmp_path, damaged, "bad.parquet")))
    assert "does not start like one" in str(_error(_write(tmp_path, b"x,y\n1,2\nPAR1", "t.csv")))


def test_a_file_that_is_not_utf8_names_the_row(tmp_path):
    text = "label,pred,race,sex\n1,1,A,F\n0,0,Bé,M\n".encode("latin-1")
    err = _error(_write(tmp_path, text))
    assert "not UTF-8" in str(err) and "0xe9" in str(err)
    _located(err, None, 2)
    with pytest.raises(ScoredDataError, match="byte 0xe9 at data row 2"):
        inspect_file(tmp_path / "data.csv", max_bytes=LIMIT)  # the upload-time full check
    header = _write(tmp_path, "label,pred,racé,sex\n1,1,A,F\n".encode("cp1252"), "h.csv")
    assert "in the header" in str(_error(header))


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_sniffed(tmp_path, delimiter):
    rows = [r.replace(",", delimiter) for r in GOOD]
    path = _csv(tmp_path, rows, header=delimiter.join(["label", "pred", "race", "sex"]))
    assert inspect_file(path, max_bytes=LIMIT).delimiter == delimiter
    assert summarise_file(path, MAPPING) == summarise_file(
        _csv(tmp_path, GOOD, name="c.csv"), MAPPING
    )


def test_an_unknown_delimiter_is_explained(tmp_path):
    path = _csv(tmp_path, [r.replace(",", ":") for r in GOOD], header="label:pred:race:sex")
    err = _error(path)
    assert "single column ('label:pred:race:sex')" in str(err)
    assert "delimiter was not recognised" in str(err) and err.column == "label"


def test_a_misnamed_column_gets_suggestions(tmp_path):
    err = _error(
        _csv(tmp_path, GOOD), ColumnMapping(outcome="Label", prediction="pred", sensitive=["rase"])
    )
    assert "Did you mean 'label'?" in _located(err, "Label", None)
    table, _ = _table()
    pq.write_table(table, tmp_path / "d.parquet")
    mapping = ColumnMapping(outcome="label", prediction="pred", sensitive=["rase"])
    err = _error(tmp_path / "d.parquet", mapping)
    assert "sensitive attribute column is not in the file. Did you mean 'race'?" in str(err)
    mapping = ColumnMapping(
        outcome="label", prediction="pred", sensitive=["race"], timestamp="when"
    )
    assert _error(tmp_path / "d.parquet", mapping).column == "when"


def test_a_ragged_row_is_located(tmp_path):
    err = _error(_csv(tmp_path, [*GOOD, "1,1,A,F,extra"]))
    assert "5 fields but the header has 4" in _located(err, None, 4)


# -- values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("2,1,A,F", "label", "The outcome '2' is not 0/1 or true/false"),
        ("yes,1,A,F", "label", "'yes' is not 0/1"),
        (",1,A,F", "label", "The outcome is missing"),
        ("1,-1,A,F", "pred", "The prediction '-1' is not 0/1"),
    ],
)
def test_bad_labels_in_csv_name_column_and_row(tmp_path, row, column, words):
    err = _error(_csv(tmp_path, [*GOOD, *GOOD, row, *GOOD]))
    assert words in _located(err, column, 7)


def test_a_label_spelt_differently_far_down_is_located(tmp_path):
    rows = ["1,0,A,F"] * 20_000 + ["true,1,A,F"]  # past the first block and the sample
    err = _error(_csv(tmp_path, rows), batch_rows=5000)
    assert "The outcome 'true' is spelt differently" in _located(err, "label", 20_001)
    err = _error(_csv(tmp_path, ["1,0,A,F"] * 20_000 + ["1,7,A,F"], name="b.csv"))
    assert "The prediction 7 is not 0 or 1" in _located(err, "pred", 20_001)


def test_accepted_label_spellings(tmp_path):
    rows = ["true,1,A,F", "False,0,B,M", "1.0,TRUE,A,M", "0,false,B,F"]
    counts = summarise_file(_csv(tmp_path, rows), MAPPING)
    expected = accumulate(
        y=[1, 0, 1, 0], yhat=[1, 0, 1, 0], sensitive={"race": list("ABAB"), "sex": list("FMMF")}
    )
    assert counts == expected
    table = pa.table(
        {"label": [True, False], "pred": [1.0, 0.0], "race": ["A", "B"], "sex": ["F", "M"]}
    )
    pq.write_table(table, tmp_path / "b.parquet")
    assert summarise_file(tmp_path / "b.parquet", MAPPING).rows == 2


@pytest.mark.parametrize(
    ("column", "values", "bad_row", "words"),
    [
        ("label", [0, 1, 3], 3, "The outcome 3 is not 0 or 1"),
        ("pred", [0.0, 0.5, 1.0], 2, "The prediction 0.5 is not 0 or 1"),
        ("score", [0.2, 1.5, 0.1], 2, "The score 1.5 is outside [0, 1]"),
        ("score", [0.2, 0.3, float("nan")], 3, "The score nan is outside [0, 1]"),
        ("score", [0.2, None, 0.1], 2, "The score is missing"),
        ("w", [1.0, -2.0, 1.0], 2, "The weight -2.0 is negative or not finite"),
        ("w", [float("nan"), 1.0, 1.0], 1, "The weight nan is negative or not finite"),
    ],
)
def test_bad_values_in_parquet_name_column_and_row(tmp_path, column, values, bad_row, words):
    table, _ = _table(n=3000)
    patched = table.column(column).to_pylist()
    patched[1500:1503] = values  # rows 1501-1503, in the second row group
    table = table.set_column(table.schema.get_field_index(column), column, pa.array(patched))
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=1000)
    mapping = ColumnMapping(
        outcome="label", prediction="pred", score="score", weight="w", sensitive=["race"]
    )
    err = _error(tmp_path / "d.parquet", mapping, batch_rows=256)
    assert words in _located(err, column, 1500 + bad_row)


def test_a_score_that_is_not_a_number_is_located_in_csv(tmp_path):
    rows = [f"{i % 2},{i % 2},A,F,0.{i}" for i in range(1, 9)] + ["1,1,A,F,high"]
    path = _csv(tmp_path, rows, header="label,pred,race,sex,score")
    mapping = ColumnMapping(outcome="label", prediction="pred", score="score", sensitive=["race"])
    err = _error(path, mapping)
    assert "The score 'high' is not a number" in _located(err, "score", 9)


def test_an_identifier_as_sensitive_attribute_is_refused(tmp_path):
    n = 100_000
    table = pa.table(
        {"label": np.zeros(n, np.int8), "pred": np.ones(n, np.int8), "customer": pa.array(range(n))}
    )
    pq.write_table(table, tmp_path / "ids.parquet")
    mapping = ColumnMapping(outcome="label", prediction="pred", sensitive=["customer"])
    err = _error(tmp_path / "ids.parquet", mapping)
    assert "more than 1,000 distinct values" in _located(err, "customer", 1001)
    path = _csv(tmp_path, [f"1,0,{r},F" for r in "ABCDEFG"])
    err = _error(path, MAPPING, max_groups=5, batch_rows=2)
    assert "more than 5 distinct values" in _located(err, "race", 6)
    assert summarise_file(path, MAPPING, max_groups=7).rows == 7


# -- counts ------------------------------------------------------------------------------


def test_csv_and_parquet_of_the_same_data_give_the_same_counts(tmp_path):
    table, data = _table(n=5000)
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=700)
    pacsv.write_csv(table, tmp_path / "d.csv")
    mapping = ColumnMapping(
        outcome="label", prediction="pred", score="score", weight="w", sensitive=["race", "sex"]
    )
    from_parquet = summarise_file(tmp_path / "d.parquet", mapping, batch_rows=1000)
    from_csv = summarise_file(tmp_path / "d.csv", mapping, batch_rows=1000)
    in_memory = accumulate(
        y=data["y"],
        yhat=data["yhat"],
        sensitive={"race": data["race"], "sex": data["sex"]},
        weights=data["weights"],
        score=data["score"],
    )
    assert (
        from_parquet.plain_dict()["n"] == from_csv.plain_dict()["n"] == in_memory.plain_dict()["n"]
    )
    assert (
        from_parquet.plain_dict()["h_n"]
        == from_csv.plain_dict()["h_n"]
        == in_memory.plain_dict()["h_n"]
    )
    np.testing.assert_allclose(from_csv.plain_dict()["w"], in_memory.plain_dict()["w"], rtol=1e-12)
    labels = from_csv.plain_dict()["labels"]
    assert MISSING_LABEL in labels[0] and MISSING_LABEL in labels[1]
    assert labels == in_memory.plain_dict()["labels"]
    assert len(list(iter_batches(tmp_path / "d.csv", mapping, batch_rows=1000))) > 1


def test_row_group_partials_merge_to_the_whole_file(tmp_path):
    table, _ = _table(n=7000)
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=900)
    path = tmp_path / "d.parquet"
    mapping = ColumnMapping(
        outcome="label", score="score", threshold=0.5, sensitive=["race", "sex"]
    )
    whole = summarise_file(path, mapping)
    for parts in (1, 2, 3, 8, 20):
        plan = row_group_plan(path, parts)
        assert sorted(g for part in plan for g in part) == list(range(8))
        assert len(plan) == min(parts, 8) and all(plan)
        assert sum(partial_for_row_groups(path, mapping, part) for part in plan) == whole
    y = table.column("label").to_numpy()
    yhat = (table.column("score").to_numpy() >= 0.5).astype(np.int8)
    assert summarise(whole)["overall"]["metrics"]["accuracy"]["value"] == np.mean(y == yhat)
    with pytest.raises(ScoredDataError, match="Only Parquet"):
        row_group_plan(_csv(tmp_path, GOOD), 2)


def test_progress_is_reported_per_batch(tmp_path):
    table, _ = _table(n=2500)
    pq.write_table(table, tmp_path / "d.parquet")
    seen = []
    summarise_file(
        tmp_path / "d.parquet", MAPPING, batch_rows=1000, progress=lambda *a: seen.append(a)
    )
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_a_failure_while_the_next_batch_is_read_ahead_stops_the_reading(tmp_path):
    """Issue 18: the next batch is read on a thread while one is counted; an error of the
    counting side propagates as it is, and no reading thread is left behind."""
    table, _ = _table(n=2500)
    pq.write_table(table, tmp_path / "d.parquet")
    before = threading.active_count()

    def stop(done, total):
        raise RuntimeError(f"stopped at {done}")

    with pytest.raises(RuntimeError, match="stopped at 1000"):
        summarise_file(tmp_path / "d.parquet", MAPPING, batch_rows=1000, progress=stop)
    assert threading.active_count() == before


def test_missing_sensitive_values_form_their_own_group(tmp_path):
    path = _csv(tmp_path, ["1,1,,F", "0,0,A,", "1,0,A,M"])
    summary = summarise(summarise_file(path, MAPPING), min_group_size=0)
    race = next(b for b in summary["by_attribute"] if b["name"] == "race")
    assert [(g["label"], g["count"]) for g in race["groups"]] == [("A", 2), (MISSING_LABEL, 1)]


def _big_csv(path, n, *, bad_row=None, late_group_from=None):
    """A CSV of n short rows, large enough to span several 4 MiB read blocks."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, n)
    yhat = rng.integers(0, 2, n)
    race = rng.choice(np.array(["a", "b", "c"], dtype="<U4"), n)
    if late_group_from is not None:
        race[late_group_from:] = np.where(rng.random(n - late_group_from) < 0.3, "late", "a")
    labels = y.astype(str)
    if bad_row is not None:
        labels[bad_row - 1] = "7"
    body = "\n".join(f"{a},{b},{c}" for a, b, c in zip(labels, yhat, race, strict=True))
    path.write_text("label,pred,race\n" + body + "\n")
    return y, yhat, race


def test_a_csv_spanning_many_read_blocks_counts_exactly(tmp_path):
    n = 1_500_000
    path = tmp_path / "big.csv"
    y, yhat, race = _big_csv(path, n, late_group_from=1_200_000)
    mapping = ColumnMapping(outcome="label", prediction="pred", sensitive=["race"])
    assert path.stat().st_size > 2 * (4 << 20)  # three read blocks or more
    from_file = summarise_file(path, mapping, max_bytes=LIMIT)
    in_memory = accumulate(y=y, yhat=yhat, sensitive={"race": race.astype(object)})
    assert from_file == in_memory
    groups = summarise(from_file)["by_attribute"][0]["groups"]
    assert "late" in {g["label"] for g in groups}  # first seen in a later block


def test_an_error_in_a_later_read_block_names_its_row(tmp_path):
    path = tmp_path / "bad.csv"
    _big_csv(path, 1_500_000, bad_row=1_345_678)
    mapping = ColumnMapping(outcome="label", prediction="pred", sensitive=["race"])
    with pytest.raises(ScoredDataError) as exc:
        summarise_file(path, mapping, max_bytes=LIMIT)
    assert exc.value.column == "label" and exc.value.row == 1_345_678
