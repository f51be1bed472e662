"""The plain-data codec: what crosses between the learner's kernel and the tests, and what never does."""
import collections
import datetime as dt
import decimal
import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from clientcare.instructor.codec import BadData, NotPlainData, decode, encode

VALUES = [
    None, True, False, 0, -3, 10 ** 30, 2.5, -0.0, "", "£ naïve ✓", [1, [2, [3]]], (1, "a"), {"a": 1, 2: [3], (4,): None},
    {1, 2}, frozenset({"x"}), dt.datetime(2024, 2, 29, 23, 59, 1, 5), dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    dt.date(2024, 1, 1), dt.time(9, 30), dt.timedelta(days=-1, seconds=5), decimal.Decimal("0.10"),
    np.int64(7), np.float32(0.5), np.bool_(False), np.array([[1.5, 2], [3, 4]]), np.array(["a", "bc"]),
    np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"), pd.Timestamp("2024-06-28 17:00"),
    pd.Timestamp("2024-06-28 17:00", tz="Europe/London"), pd.Timedelta(hours=72), pd.NaT, pd.NA,
]
FRAMES = [
    pd.DataFrame({"i": [1, 2], "f": [1.5, math.nan], "s": ["a", None], "b": [True, False],
                  "t": pd.to_datetime(["2024-01-01 10:00", None]), "d": pd.to_timedelta(["1h", "2h"]),
                  "c": pd.Categorical(["x", "y"], categories=["y", "x"], ordered=True),
                  "n": pd.array([1, None], dtype="Int64"), "o": [[1], {"k": 2}]}, index=["r1", "r7"]),
    pd.DataFrame({"x": [1]}, index=pd.MultiIndex.from_tuples([("a", 1)], names=["k", "n"])),
    pd.DataFrame({"x": [1.0, 2.0]}, index=pd.date_range("2024-01-01", periods=2, freq="D", name="day")),
    pd.DataFrame(columns=["a", "b"]), pd.DataFrame(index=[3, 4]), pd.DataFrame([[1, 2]], columns=["a", "a"]),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_plain_values_cross_unchanged(value):
    back = decode(encode(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape
        assert np.array_equal(back, value, equal_nan=False) or value.dtype.kind == "M"
    elif value is pd.NaT or value is pd.NA:
        assert back is value
    else:
        assert back == value


def test_special_floats_and_namedtuples():
    assert math.isnan(decode(encode(math.nan))) and decode(encode(-math.inf)) == -math.inf
    point = collections.namedtuple("Point", "x y")(1, 2)
    assert decode(encode(point)) == (1, 2) and type(decode(encode(point))) is tuple


@pytest.mark.parametrize("frame", FRAMES, ids=range(len(FRAMES)))
def test_data_frames_cross_with_their_dtypes_and_index(frame):
    pd.testing.assert_frame_equal(decode(encode(frame)), frame)
    series = frame.iloc[:, 0] if frame.shape[1] else pd.Series([], dtype=float, name="e")
    pd.testing.assert_series_equal(decode(encode(series)), series)


def test_a_figure_crosses_as_its_bars_and_labels():
    import matplotlib.figure

    figure = matplotlib.figure.Figure()
    ax = figure.add_subplot()
    ax.barh(["A Ltd", "B Ltd"], [40.0, math.nan])
    ax.set_xlabel("csat")
    back = decode(encode(figure))
    assert type(back) is matplotlib.figure.Figure
    bars = back.axes[0].patches
    assert len(bars) == 2 and bars[0].get_width() == 40.0 and math.isnan(bars[1].get_width())
    assert back.axes[0].get_xlabel() == "csat"
    assert [t.get_text() for t in back.axes[0].get_yticklabels()] == ["A Ltd", "B Ltd"]


class LooksLikeStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class EqualFrame(pd.DataFrame):
    def equals(self, other):
        return True


@pytest.mark.parametrize("value", [LooksLikeStr("x"), EqualFrame({"a": [1]}), object(), len, print, type,
                                   [1, lambda: 2], {"k": open}, np.array([object()]), pd.Series([object()])],
                         ids=lambda v: type(v).__name__)
def test_anything_not_plain_is_refused_and_named(value):
    with pytest.raises(NotPlainData, match="it contains"):
        encode(value)


def test_size_and_nesting_are_capped():
    with pytest.raises(NotPlainData, match="nested too deeply"):
        nested = []
        for _ in range(200):
            nested = [nested]
        encode(nested)
    with pytest.raises(NotPlainData, match="larger than"):
        encode("x" * 2000, max_bytes=1000)
    with pytest.raises(NotPlainData, match="more than"):
        encode(list(range(100)), max_items=50)


NUMERIC = [np.array([1.5, math.nan, math.inf, -math.inf, -0.0, 1e300]), np.array([True, False]),
           np.array([2 ** 64 - 1, 0], dtype="u8"), np.array([-7, 2 ** 40], dtype="i8"),
           np.array([0.1, 65504], dtype="f2"), np.array([math.nan, 0.3], dtype="f4"), np.array([], dtype="i4")]


@pytest.mark.parametrize("array", NUMERIC, ids=lambda a: a.dtype.str)
def test_numeric_columns_encode_as_their_values_one_by_one(array):
    """Numeric arrays and columns skip the per-value encoder; what they give must not change."""
    one_by_one = [json.loads(encode(v)) for v in array.tolist()]
    assert json.loads(encode(array))["$ndarray"][2] == one_by_one
    assert json.loads(encode(pd.Series(array)))["$series"][3] == one_by_one
    assert json.loads(encode(pd.DataFrame({"a": array})))["$frame"][3] == [one_by_one]
    back = decode(encode(array))
    assert back.dtype == array.dtype and np.array_equal(back, array, equal_nan=True)


def test_numeric_columns_are_capped_like_any_values():
    with pytest.raises(NotPlainData, match="more than 50 values"):
        encode(pd.DataFrame({"a": range(100)}), max_items=50)
    with pytest.raises(NotPlainData, match="more than 50 values"):
        encode(np.arange(100), max_items=50)
    nested = pd.Series([1.0, 2.0])
    for _ in range(58):  # its values are then as deep as a value may be
        nested = [nested]
    encode(nested)
    with pytest.raises(NotPlainData, match="nested too deeply"):
        encode([nested])


@pytest.mark.parametrize("text", [
    '{"$pickle": "gASVAAAA"}', '{"a": 1}', '{"$tuple": [1], "$set": [2]}', "[" * 100_000 + "]" * 100_000,
    "NaN", "Infinity", '{"$dict": [[[1], 2]]}', '{"$index": ["category", [], null, null]}',
    '{"$ndarray": ["O8", [1], [1]]}', '{"$float": "1e999"}', "1" * 5000, '{"$datetime": 5}', "not json",
])
def test_anything_else_is_bad_data(text):
    with pytest.raises(BadData):
        decode(text)


@pytest.mark.parametrize("text", [
    # keys sharing one hash: a set or dict of them would take quadratic time
    json.dumps({"$set": [k * (2 ** 61 - 1) for k in range(1, 20_000)]}),
    json.dumps({"$dict": [[k * (2 ** 61 - 1), 0] for k in range(1, 20_000)]}),
    # a few items that would each take megabytes, a lazy range that is not lazy for long, an endless decimal
    json.dumps({"$ndarray": ["<U999999", [200], ["x"] * 200]}),
    json.dumps({"$range": [0, 10 ** 15, 1, None]}),
    json.dumps({"$decimal": "1e999999999"}),
    # more values than a message may hold, nesting deeper than any plain value, too many axes in a figure
    "[" + ",".join(["0"] * 2_000_001) + "]",
    "[" * 500 + "]" * 500,
    json.dumps({"$figure": ["", [{"$axes": ["", "", "", [[], []], [[], []], [0, 1], [0, 1], [], []]}] * 500]}),
])
def test_crafted_replies_are_refused_quickly(text):
    started = time.monotonic()
    with pytest.raises(BadData):
        decode(text)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("value", ["caf\udce9", ["ok", {"key \ud800": 1}],
                                   pd.DataFrame({"option": ["A\udc80", "B"]})])
def test_half_a_character_is_refused_by_name_both_ways(value):
    """A lone surrogate (what errors='surrogateescape' leaves) cannot be sent as text, nor saved in a notebook."""
    with pytest.raises(NotPlainData, match="half of a character"):
        encode(value)
    with pytest.raises(BadData, match="half of a character"):
        decode('{"$tuple":["\\udc80"]}')  # the same written as an escape, in a crafted reply
    assert decode(encode("emoji \U0001F600, a backslash and u: \\udc80")) == "emoji \U0001F600, a backslash and u: \\udc80"


@pytest.mark.parametrize("text", [
    '{"$index":["datetime64[ns, dateutil//usr/share/zoneinfo/UTC]",[0],null,null]}',
    '{"$timestamp":[0,"dateutil//usr/share/zoneinfo/UTC","ns"]}',
    '{"$timestamp":[0,"/usr/share/zoneinfo/UTC","ns"]}',
])
def test_a_time_zone_is_a_name_never_a_file_the_grader_opens(text):
    """pandas reads 'dateutil/<path>' as a file: a crafted reply could make the grader open any path it names."""
    with pytest.raises(BadData, match="time zone"):
        decode(text)
    stamp = pd.Timestamp("2026-12-01 09:00", tz="Europe/London")
    assert decode(encode(stamp)) == stamp and decode(encode(pd.DatetimeIndex([stamp]))).tz is not None
