"""core.memo (issue 13): a read runs once per arguments inside a scope, every time
outside one, and a row is keyed by its class and primary key."""

from core.memo import in_scope, memo_scope, memoized

calls: list = []


class Row:
    _meta = object()

    def __init__(self, pk):
        self.pk = pk


@memoized
def read(row, *, env="prod"):
    calls.append((row.pk, env))
    return [row.pk, env]


def test_outside_a_scope_every_call_runs():
    calls.clear()
    read(Row(1))
    read(Row(1))
    assert len(calls) == 2 and not in_scope()


def test_inside_a_scope_each_argument_set_runs_once():
    calls.clear()
    with memo_scope():
        assert read(Row(1)) == read(Row(1)) == [1, "prod"]
        read(Row(2))
        read(Row(1), env="qa")
        with memo_scope():  # a nested scope shares the outer one
            read(Row(2))
    assert calls == [(1, "prod"), (2, "prod"), (1, "qa")]
    read(Row(1))  # the scope ended
    assert len(calls) == 4


def test_an_unsaved_row_or_unkeyable_argument_is_not_cached():
    calls.clear()
    with memo_scope():
        read(Row(None))
        read(Row(None))
        read(Row(3), env=["x"])  # lists are keyed by value
        read(Row(3), env=["x"])
        read(Row(3), env={"x": 1})  # a dict cannot be keyed: runs uncached
        read(Row(3), env={"x": 1})
    assert len(calls) == 5
