"""The plain-data codec: the only way values cross between the learner's kernel and the tests.

Learner code runs in its own kernel; the tests run in the grader (see
``preprocessors/judged_execute.py``). A test that calls a learner function sends
the arguments, and receives the result, as JSON text made by ``encode`` and read
by ``decode``. Only plain data can be encoded:

* ``None``, ``bool``, ``int``, ``float`` (``nan`` and infinities included), ``str``,
  ``list``, ``tuple`` (namedtuples become tuples), ``dict``, ``set``, ``frozenset``;
* ``datetime``, ``date``, ``time``, ``timedelta``, ``Decimal``;
* numpy scalars and arrays (numeric, bool, str, datetime64, timedelta64, object of plain values);
* pandas ``DataFrame``, ``Series``, ``Index`` (range, multi, datetime, categorical),
  ``Timestamp``, ``Timedelta``, ``NaT``, ``NA``, with their dtypes;
* a matplotlib ``Figure``, as data: its axes' labels, title, ticks, bars and lines
  (``decode`` draws a new Figure from that data, so a test can look at the bars).

Types are matched exactly (a subclass of ``str`` or ``DataFrame`` is refused: its
``==`` could claim anything), nothing is ever unpickled or imported by name, and the
text has a size cap and a nesting cap. ``decode`` accepts only the tags below, and
raises ``BadData`` for anything else. This module is self-contained (standard library,
plus numpy/pandas/matplotlib when such a value appears), because its source is also
run inside the learner's kernel.
"""
from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import json as _json
import math as _math
import re as _re

# Bound once, when the module starts: in the learner's kernel, replacing ``json.dumps`` later does not
# change what this module uses.
_dumps, _loads = _json.dumps, _json.loads

MAX_BYTES = 32 * 1024 * 1024  # encoded text, either way
MAX_DEPTH = 60                # nesting of containers
MAX_ITEMS = 2_000_000         # values in one message
MAX_ARRAY_BYTES = 4 * MAX_BYTES  # memory of one decoded numpy array
MAX_AXES, MAX_BARS, MAX_TICKS = 64, 10_000, 1_000  # in one decoded figure
MAX_COLLISIONS = 64           # keys of a set or dict sharing a hash (a crafted reply would make them quadratic)

_DTYPE = _re.compile(
    r"^(bool|u?int(8|16|32|64)|float(16|32|64)|object|str|string|boolean|U?Int(8|16|32|64)|Float(32|64)"
    r"|(datetime|timedelta)64\[(s|ms|us|ns)\]|datetime64\[(s|ms|us|ns), [A-Za-z0-9_/+\-:]{1,64}\])$")
_SURROGATE = _re.compile("[\ud800-\udfff]")  # half of a character: no UTF-8 text can hold it
_SURROGATE_ESCAPE = _re.compile(r"(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # one written as \udc80
_NUMPY_DTYPE = _re.compile(r"^([|<>=]?)(b1|[iu][1248]|f[248]|U\d{1,6}|[Mm]8\[(s|ms|us|ns|D)\]|O)$")


class NotPlainData(TypeError):
    """A value that cannot cross the boundary (the message says what it was)."""


class BadData(ValueError):
    """Text that is not a valid encoding (too large, too deep, or not made of the tags below)."""


# ---------------------------------------------------------------- encoding


def _qualname(value) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__


def _is_numeric(dtype) -> bool:
    """A numpy bool, integer or float dtype (``tolist()`` then gives Python bools, ints and floats)."""
    return type(dtype).__module__.split(".")[0] == "numpy" and getattr(dtype, "kind", None) in ("b", "i", "u", "f")


def _is_namedtuple(kind) -> bool:
    fields = vars(kind).get("_fields")
    return kind.__bases__ == (tuple,) and type(fields) is tuple and all(type(f) is str for f in fields)


class _Encoder:
    def __init__(self, max_items: int):
        self.items = 0
        self.max_items = max_items

    def __call__(self, value, depth: int = 0):
        self.items += 1
        if self.items > self.max_items:
            raise NotPlainData(f"it has more than {self.max_items:,} values")
        if depth > MAX_DEPTH:
            raise NotPlainData("it is nested too deeply")
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return value
        if kind is int:
            if abs(value) >= 10 ** 4000:
                raise NotPlainData("it holds an integer too large to send")
            return value
        if kind is float:
            return value if _math.isfinite(value) else {"$float": repr(value)}
        if kind is list:
            return [self(item, depth + 1) for item in value]
        if kind is tuple or (issubclass(kind, tuple) and _is_namedtuple(kind)):
            return {"$tuple": [self(item, depth + 1) for item in tuple.__iter__(value)]}
        if kind is set or kind is frozenset:
            return {"$" + kind.__name__: [self(item, depth + 1) for item in value]}
        if kind is dict or _qualname(value) in ("collections.OrderedDict", "collections.defaultdict"):
            return {"$dict": [[self(k, depth + 1), self(v, depth + 1)] for k, v in dict.items(value)]}
        if kind is _dt.datetime:
            return {"$datetime": value.isoformat()}
        if kind is _dt.date:
            return {"$date": value.isoformat()}
        if kind is _dt.time:
            return {"$time": value.isoformat()}
        if kind is _dt.timedelta:
            return {"$timedelta": [value.days, value.seconds, value.microseconds]}
        if kind is _decimal.Decimal:
            return {"$decimal": str(value)}
        module = kind.__module__.split(".")[0]
        if module == "numpy":
            return self.numpy(value, depth)
        if module == "pandas":
            return self.pandas(value, depth)
        if module == "matplotlib" and kind.__name__ == "Figure":
            return self.figure(value, depth)
        raise NotPlainData(f"it contains a {_qualname(value)}")

    # -- numpy

    def numpy(self, value, depth):
        import numpy as np

        kind = type(value)
        if kind is np.ndarray:
            dtype = value.dtype.str
            if not _NUMPY_DTYPE.match(dtype):
                raise NotPlainData(f"it contains a numpy array of dtype {value.dtype}")
            if value.size > self.max_items:
                raise NotPlainData(f"it has more than {self.max_items:,} values")
            flat = value.reshape(-1)
            if value.dtype.kind in "Mm":
                items = [None if np.isnat(x) else int(x.view("i8")) for x in flat]
            elif value.dtype.kind == "O":
                items = [self(x, depth + 1) for x in flat]
            elif _is_numeric(value.dtype):
                items = self.numbers(flat.tolist(), value.dtype.kind, depth)
            else:
                items = [self(x.item(), depth + 1) for x in flat]
            self.items += len(items)
            return {"$ndarray": [dtype, list(value.shape), items]}
        if isinstance(value, np.generic) and kind.__module__ == "numpy":
            dtype = value.dtype.str
            if not _NUMPY_DTYPE.match(dtype) or value.dtype.kind == "O":
                raise NotPlainData(f"it contains a numpy {kind.__name__}")
            if value.dtype.kind in "Mm":
                return {"$npscalar": [dtype, None if np.isnat(value) else int(value.view("i8"))]}
            return {"$npscalar": [dtype, self(value.item(), depth + 1)]}
        raise NotPlainData(f"it contains a {_qualname(value)}")

    # -- pandas

    def dtype(self, dtype, depth):
        import pandas as pd

        if isinstance(dtype, pd.CategoricalDtype):
            return {"$category": [self.index(dtype.categories, depth + 1), bool(dtype.ordered)]}
        text = str(dtype)
        if not _DTYPE.match(text):
            raise NotPlainData(f"it has a column of unusual type {text}")
        return text

    def values(self, array, depth):
        items = array.tolist()
        if _is_numeric(array.dtype):
            return self.numbers(items, array.dtype.kind, depth)
        return [self(item, depth + 1) for item in items]

    def numbers(self, items: list, kind: str, depth: int) -> list:
        """What ``self(item, depth + 1)`` gives for each item of a bool, int or float array's ``tolist()``,
        without a call per item (these are most of a DataFrame's values)."""
        self.items += len(items)
        if self.items > self.max_items:
            raise NotPlainData(f"it has more than {self.max_items:,} values")
        if items and depth + 1 > MAX_DEPTH:
            raise NotPlainData("it is nested too deeply")
        if kind == "f":
            isfinite = _math.isfinite
            return [v if isfinite(v) else {"$float": repr(v)} for v in items]
        return items

    def index(self, index, depth):
        import pandas as pd

        kind = type(index)
        name = self(index.name, depth + 1) if kind is not pd.MultiIndex else None
        if kind is pd.RangeIndex:
            return {"$range": [index.start, index.stop, index.step, name]}
        if kind is pd.MultiIndex:
            levels = [self.index(index.get_level_values(i), depth + 1) for i in range(index.nlevels)]
            return {"$multiindex": [levels, [self(n, depth + 1) for n in index.names]]}
        if kind not in (pd.Index, pd.DatetimeIndex, pd.TimedeltaIndex, pd.CategoricalIndex):
            raise NotPlainData(f"it contains a {_qualname(index)}")
        freq = getattr(index, "freqstr", None) if kind in (pd.DatetimeIndex, pd.TimedeltaIndex) else None
        return {"$index": [self.dtype(index.dtype, depth), self.values(index, depth), name, freq]}

    def pandas(self, value, depth):
        import pandas as pd

        kind = type(value)
        if kind is pd.DataFrame:
            columns = [column for _, column in value.items()]  # by position (iloc per column is slower)
            return {"$frame": [self.index(value.index, depth + 1), self.index(value.columns, depth + 1),
                               [self.dtype(c.dtype, depth + 1) for c in columns],
                               [self.values(c, depth + 1) for c in columns]]}
        if kind is pd.Series:
            return {"$series": [self.index(value.index, depth + 1), self(value.name, depth + 1),
                                self.dtype(value.dtype, depth + 1), self.values(value, depth + 1)]}
        if kind in (pd.Index, pd.RangeIndex, pd.MultiIndex, pd.DatetimeIndex, pd.TimedeltaIndex, pd.CategoricalIndex):
            return self.index(value, depth)
        if value is pd.NaT:
            return {"$nat": 0}
        if value is pd.NA:
            return {"$na": 0}
        if kind is pd.Timestamp:
            return {"$timestamp": [int(value.value), str(value.tz) if value.tz is not None else None, value.unit]}
        if kind is pd.Timedelta:
            return {"$timedelta64": [int(value.value), value.unit]}
        raise NotPlainData(f"it contains a {_qualname(value)}")

    # -- matplotlib: the figure's content as data

    def figure(self, figure, depth):
        from matplotlib.axes import Axes
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle

        if type(figure) is not Figure:
            raise NotPlainData(f"it contains a {_qualname(figure)}")

        def text(getter):
            value = getter()
            return value if type(value) is str else ""

        def number(value):
            value = float(value)
            return value if _math.isfinite(value) else {"$float": repr(value)}

        axes = []
        for ax in figure.axes:
            if type(ax) is not Axes:
                raise NotPlainData(f"its figure contains a {_qualname(ax)}")
            bars = [[number(p.get_x()), number(p.get_y()), number(p.get_width()), number(p.get_height())]
                    for p in ax.patches if type(p) is Rectangle]
            lines = [[[number(x) for x in line.get_xdata()], [number(y) for y in line.get_ydata()]]
                     for line in ax.lines if type(line) is Line2D]
            self.items += sum(len(x) + len(y) for x, y in lines) + 4 * len(bars)
            if self.items > self.max_items:
                raise NotPlainData(f"it has more than {self.max_items:,} values")
            axes.append({"$axes": [text(ax.get_title), text(ax.get_xlabel), text(ax.get_ylabel),
                                   [[number(v) for v in ax.get_xticks()], [text(t.get_text) for t in ax.get_xticklabels()]],
                                   [[number(v) for v in ax.get_yticks()], [text(t.get_text) for t in ax.get_yticklabels()]],
                                   [number(v) for v in ax.get_xlim()], [number(v) for v in ax.get_ylim()],
                                   bars, lines]})
        suptitle = figure._suptitle.get_text() if getattr(figure, "_suptitle", None) is not None else ""
        return {"$figure": [text(lambda: suptitle), axes]}


def encode(value, max_bytes: int = MAX_BYTES, max_items: int = MAX_ITEMS) -> str:
    """``value`` as JSON text; raises ``NotPlainData`` (saying why) for anything not plain."""
    try:
        tree = _Encoder(max_items)(value)
    except RecursionError:
        raise NotPlainData("it is nested too deeply") from None
    text = _dumps(tree, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    if len(text) > max_bytes:
        raise NotPlainData(f"it is larger than {max_bytes // (1024 * 1024)} MB when sent")
    if _SURROGATE.search(text):
        raise NotPlainData("it holds text with half of a character (a lone surrogate such as '\\udc80', as "
                           "decoding with errors='surrogateescape' makes), which cannot be sent as text")
    return text


# ---------------------------------------------------------------- decoding


def _time_zone(name):
    """A time zone name from a reply: an IANA name or an offset, never a path (pandas reads 'dateutil/<path>')."""
    if name is not None and (type(name) is not str or name.startswith(("/", ".", "dateutil")) or ".." in name):
        raise BadData(f"unknown time zone {str(name)[:80]!r}")
    return name


def _check_dtype(text):
    import pandas as pd

    if isinstance(text, pd.CategoricalDtype):
        return text
    if type(text) is not str or not _DTYPE.match(text):
        raise BadData(f"unknown dtype {text!r}")
    if ", " in text:
        _time_zone(text[text.index(", ") + 2:-1])
    return pd.api.types.pandas_dtype(text)


def _list(value, what):
    if type(value) is not list:
        raise BadData(f"{what} should be a list")
    return value


def _nd_items(dtype, items):
    import numpy as np

    if dtype.kind in "Mm":
        unit = np.datetime_data(dtype)[0]
        nat = dtype.type("NaT", unit)
        return [nat if item is None else dtype.type(_int(item), unit) for item in items]
    return items


def _int(value):
    if type(value) is not int:
        raise BadData("expected an integer")
    return value


def _build_index(value):
    import pandas as pd

    if isinstance(value, pd.Index):
        return value
    raise BadData("expected an index")


def _decode_tag(tag: str, body):
    import_pandas = tag in ("$frame", "$series", "$index", "$range", "$multiindex", "$nat", "$na",
                            "$timestamp", "$timedelta64", "$category")
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise BadData("bad float")
        return float(body)
    if tag == "$tuple":
        return tuple(_list(body, "a tuple"))
    if tag == "$set":
        return set(_distinct_hashes(_list(body, "a set")))
    if tag == "$frozenset":
        return frozenset(_distinct_hashes(_list(body, "a frozenset")))
    if tag == "$dict":
        pairs = _list(body, "a dict")
        if not all(type(p) is list and len(p) == 2 for p in pairs):
            raise BadData("a dict should be a list of pairs")
        _distinct_hashes([k for k, _ in pairs])
        return {k: v for k, v in pairs}
    if tag in ("$datetime", "$date", "$time"):
        if type(body) is not str or len(body) > 64:
            raise BadData("bad date or time")
        return {"$datetime": _dt.datetime, "$date": _dt.date, "$time": _dt.time}[tag].fromisoformat(body)
    if tag == "$timedelta":
        days, seconds, micro = _list(body, "a timedelta")
        return _dt.timedelta(days=_int(days), seconds=_int(seconds), microseconds=_int(micro))
    if tag == "$decimal":
        if type(body) is not str or len(body) > 200:
            raise BadData("bad decimal")
        value = _decimal.Decimal(body)
        if value.is_finite() and abs(value.adjusted()) > 4000:  # int() or quantize() of it would never end
            raise BadData("a decimal too large or too small")
        return value
    if tag in ("$ndarray", "$npscalar"):
        import numpy as np

        dtype_text = body[0] if type(body) is list and body else None
        if type(dtype_text) is not str or not _NUMPY_DTYPE.match(dtype_text):
            raise BadData(f"unknown numpy dtype {dtype_text!r}")
        dtype = np.dtype(dtype_text)
        if tag == "$npscalar":
            return _nd_items(dtype, [body[1]])[0] if dtype.kind in "Mm" else dtype.type(body[1])
        _, shape, items = body
        shape = tuple(_int(n) for n in _list(shape, "a shape"))
        if dtype.itemsize * len(_list(items, "array items")) > MAX_ARRAY_BYTES or len(shape) > 32:
            raise BadData("an array too large")
        items = _nd_items(dtype, items)
        array = np.empty(len(items), dtype=dtype)
        for i, item in enumerate(items):
            array[i] = item
        return array.reshape(shape)
    if import_pandas:
        import pandas as pd

        if tag == "$nat":
            return pd.NaT
        if tag == "$na":
            return pd.NA
        if tag == "$timestamp":
            value, tz, unit = _list(body, "a timestamp")
            stamp = pd.Timestamp(_int(value), tz=_time_zone(tz) if type(tz) is str else None)
            return stamp.as_unit(unit) if unit in ("s", "ms", "us", "ns") else stamp
        if tag == "$timedelta64":
            value, unit = _list(body, "a timedelta")
            delta = pd.Timedelta(_int(value))
            return delta.as_unit(unit) if unit in ("s", "ms", "us", "ns") else delta
        if tag == "$category":
            categories, ordered = _list(body, "a categorical dtype")
            return pd.CategoricalDtype(_build_index(categories), ordered=bool(ordered))
        if tag == "$range":
            start, stop, step, name = _list(body, "a range index")
            if _int(step) == 0 or len(range(_int(start), _int(stop), step)) > MAX_ITEMS:
                raise BadData("a range index too long")
            return pd.RangeIndex(start, stop, step, name=name)
        if tag == "$multiindex":
            levels, names = _list(body, "a multi-index")
            return pd.MultiIndex.from_arrays([_build_index(level) for level in _list(levels, "levels")],
                                             names=_list(names, "names"))
        if tag == "$index":
            dtype, values, name, freq = _list(body, "an index")
            dtype = _check_dtype(dtype)
            index = pd.Index(_list(values, "index values"), dtype=dtype, name=name)
            if type(freq) is str and isinstance(index, (pd.DatetimeIndex, pd.TimedeltaIndex)):
                try:
                    index.freq = freq
                except (ValueError, TypeError):
                    pass
            return index
        if tag == "$series":
            index, name, dtype, values = _list(body, "a series")
            index = _build_index(index)
            values = _list(values, "series values")
            if len(values) != len(index):
                raise BadData("a series' values and index differ in length")
            series = pd.Series(values, dtype=_check_dtype(dtype), name=name)
            series.index = index
            return series
        if tag == "$frame":
            index, columns, dtypes, data = _list(body, "a data frame")
            index, columns = _build_index(index), _build_index(columns)
            dtypes, data = _list(dtypes, "dtypes"), _list(data, "columns")
            if not len(dtypes) == len(data) == len(columns) or any(len(_list(c, "a column")) != len(index)
                                                                  for c in data):
                raise BadData("a data frame's parts differ in length")
            # each column built as a Series would build it (the same casts and refusals), then joined by
            # position with the index given: no alignment of the columns' own indexes, half the time
            parts = {i: pd.Series(values, dtype=_check_dtype(dtype)).array for i, (dtype, values) in
                     enumerate(zip(dtypes, data))}
            frame = pd.DataFrame(parts, index=index) if parts else pd.DataFrame(index=index)
            frame.columns = columns
            return frame
    if tag == "$axes":
        return ("$axes", _list(body, "axes"))
    if tag == "$figure":
        return _draw_figure(_list(body, "a figure"))
    raise BadData(f"unknown tag {tag!r}")


def _draw_figure(body):
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    suptitle, axes = body
    if len(_list(axes, "axes")) > MAX_AXES:
        raise BadData("a figure with too many axes")
    figure = Figure()
    if type(suptitle) is str and suptitle:
        figure.suptitle(suptitle)
    for item in _list(axes, "axes"):
        if type(item) is not tuple or item[0] != "$axes" or len(item[1]) != 9:
            raise BadData("bad axes")
        title, xlabel, ylabel, xticks, yticks, xlim, ylim, bars, lines = item[1]
        if len(_list(bars, "bars")) > MAX_BARS or any(len(_list(_list(t, "ticks")[0], "ticks")) > MAX_TICKS
                                                      for t in (xticks, yticks)):
            raise BadData("a figure with too many bars or ticks")
        ax = figure.add_subplot()
        ax.set_title(str(title))
        ax.set_xlabel(str(xlabel))
        ax.set_ylabel(str(ylabel))
        for x, y, width, height in _list(bars, "bars"):
            ax.add_patch(Rectangle((float(x), float(y)), float(width), float(height)))
        for xs, ys in _list(lines, "lines"):
            ax.plot([float(v) for v in xs], [float(v) for v in ys])
        ax.set_xlim(*[float(v) for v in xlim])
        ax.set_ylim(*[float(v) for v in ylim])
        for set_ticks, ticks in ((ax.set_xticks, xticks), (ax.set_yticks, yticks)):
            positions, labels = _list(ticks, "ticks")
            if len(_list(positions, "ticks")) == len(_list(labels, "tick labels")):
                set_ticks([float(v) for v in positions], [str(t) for t in labels])
    return figure


def _distinct_hashes(keys: list) -> list:
    """``keys``, unless many of them share a hash (a set or dict of them would take quadratic time)."""
    if len(keys) > MAX_COLLISIONS:
        try:
            shared = len(keys) - len({hash(k) for k in keys})
        except TypeError:
            raise BadData("a set or dict key that cannot be hashed") from None
        if shared > MAX_COLLISIONS:
            raise BadData("a set or dict whose keys collide (a crafted reply?)")
    return keys


def _too_deep(value, most: int) -> bool:
    """Whether containers nest more than ``most`` deep in ``value`` (never recurses)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > most:
            return True
        kind = type(item)
        if kind is list or kind is tuple or kind is set or kind is frozenset:
            stack += [(v, depth + 1) for v in item if type(v) in (list, tuple, set, frozenset, dict)]
        elif kind is dict:
            stack += [(v, depth + 1) for v in item.values() if type(v) in (list, tuple, set, frozenset, dict)]
    return False


def _hook(pairs):
    if len(pairs) != 1 or type(pairs[0][0]) is not str or not pairs[0][0].startswith("$"):
        raise BadData("an object must be a single tag")
    return _decode_tag(*pairs[0])


def _refuse_constant(name):
    raise BadData(f"{name} is not allowed")


def decode(text: str, max_bytes: int = MAX_BYTES):
    """The value ``text`` (made by ``encode``) stands for; raises ``BadData`` for anything else."""
    if type(text) is not str:
        raise BadData("expected text")
    if len(text) > max_bytes:
        raise BadData(f"it is larger than {max_bytes // (1024 * 1024)} MB")
    if text.count(",") >= MAX_ITEMS:  # every value but the first follows a comma: refused before any is built
        raise BadData(f"it has more than {MAX_ITEMS:,} values")
    if _SURROGATE.search(text) or ("\\u" in text and _SURROGATE_ESCAPE.search(text)):
        raise BadData("it holds half of a character (a lone surrogate), which no text can hold")
    try:
        value = _loads(text, object_pairs_hook=_hook, parse_constant=_refuse_constant)
    except BadData:
        raise
    except Exception as error:  # whatever a crafted text makes the parsers raise, it is not plain data
        raise BadData(f"not a valid encoding ({type(error).__name__}: {str(error)[:200]})") from None
    # an encoding nests about two levels per container ({"$tuple": [...]}); only then can it be too deep
    if text.count("[") > MAX_DEPTH and _too_deep(value, MAX_DEPTH + 1):
        raise BadData("it is nested too deeply")
    return value
