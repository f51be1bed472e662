"""The small server that runs INSIDE the learner's kernel (its source is sent there, after codec.py's).

Nothing here is trusted: learner code shares the process and may change any of
it. It only lets the grader call learner functions with plain data and read the
plain-data answer; whatever comes back is checked by the grader's own decoder.
The grader never runs a test here, so there is nothing here worth forging.

The grader's requests come as comm messages on the one comm ``listen`` opens (a Jupyter
message the kernel answers without running a cell: no input transformers, no parsing
or compiling, about a third of an execute request's cost). IPython's ``pre_execute``
and ``post_execute`` hooks still run around each, as around a silent cell (``%matplotlib
inline`` closes a call's figures there). ``_serve`` looks the helper up by name for
every request, as a cell would, so a helper the learner's code deleted or broke is found
broken and installed again.

Courtesy, not security: before each test the grader asks it to put back what the
submission's own cells replaced in its kernel (builtins, functions of math,
operator, numpy and pandas, the setup cell's names) so that a learner's stray
``len = 0`` or ``RATE_CARD = {}`` does not break their own correct functions.
"""
import base64 as _base64
import builtins as _builtins
import copy as _copy
import datetime as _datetime
import decimal as _decimal
import importlib as _importlib
import io as _io
import sys as _sys
import time as _time

_MODULES = ("math", "operator", "numpy", "numpy.testing", "pandas", "pandas.testing")
_CLASSES = (("pandas", "DataFrame"), ("pandas", "Series"), ("pandas", "Index"), ("pandas.core.generic", "NDFrame"))
_KERNEL_BUILTINS = {"input", "raw_input", "exit", "quit", "get_ipython", "display", "help", "copyright",
                    "credits", "license", "_", "__", "___", "__IPYTHON__"}
# Built-in exceptions a test may expect by type; anything else comes back as a generic learner error.
_ALLOWED = {"ValueError", "TypeError", "KeyError", "IndexError", "LookupError", "ArithmeticError",
            "ZeroDivisionError", "OverflowError", "FloatingPointError", "AttributeError", "NameError",
            "UnboundLocalError", "NotImplementedError", "RuntimeError", "RecursionError", "AssertionError",
            "UnicodeError", "UnicodeDecodeError", "UnicodeEncodeError", "StopIteration", "MemoryError",
            "OSError", "FileNotFoundError", "PermissionError", "IsADirectoryError", "NotADirectoryError",
            "FileExistsError", "TimeoutError", "ImportError", "ModuleNotFoundError", "Exception"}


_b64encode, _b64decode = _base64.b64encode, _base64.b64decode  # bound before any learner code runs
_deepcopy, _clock = _copy.deepcopy, _time.perf_counter
_IMMUTABLE = frozenset((str, int, float, bool, type(None), bytes, complex, _decimal.Decimal, _datetime.datetime,
                        _datetime.date, _datetime.time, _datetime.timedelta))


class _Capped(_io.TextIOBase):
    """Where print() goes during a call: counted, not kept (the grader does not show it)."""

    _null = None

    def __init__(self):
        self.count = 0

    def write(self, text):
        self.count += len(text)
        return len(text)

    def writable(self):
        return True

    def fileno(self):
        """A real descriptor for code that needs one (faulthandler, subprocess): /dev/null, as for a terminal."""
        if _Capped._null is None:
            import os as _os

            _Capped._null = _os.open(_os.devnull, _os.O_WRONLY)
        return _Capped._null


# Letters of other alphabets that look like Latin ones (text copied from a PDF or typed with another keyboard)
_LOOKALIKES = dict(zip("аеорсухіјѕԁһӏԛԝкɡαονικρτυχε", "aeopcyxijsdhlqwkgaovikptuxe"))


def _skeleton(name):
    import unicodedata as _unicodedata

    text = _unicodedata.normalize("NFKD", str(name)).casefold()
    text = "".join(_LOOKALIKES.get(ch, ch) for ch in text if not _unicodedata.combining(ch))
    return text.replace("-", "_")


def _near_miss(name, namespace):
    """A name of the learner's own that only looks like ``name`` (another case, letters of another alphabet)."""
    wanted = _skeleton(name)
    for other in list(namespace)[:5000]:
        if type(other) is str and other != name and not other.startswith("_") and _skeleton(other) == wanted:
            return other[:80]
    return None


class Server:
    def __init__(self, namespace):
        self.ns = namespace
        self.reply = ""
        self.builtins = None
        self.modules = {}
        self.aside = {}
        self.kernel_globals = {}
        self.setup = {}  # setup name -> (its encoding, its value, how to copy it) as last sent (see ``_fresh``)

    # -- plumbing

    def _answer(self, value):
        try:
            text = encode(value)
        except NotPlainData as error:
            text = encode({"status": "notplain", "message": str(error)})
        self.reply = _b64encode(text.encode("utf-8")).decode("ascii")

    @staticmethod
    def _request(text):
        return decode(_b64decode(text.encode("ascii")).decode("utf-8"))

    # -- what the grader asks

    def setup_done(self):
        """Snapshot builtins and library functions, just after the course's setup cells ran.

        Also puts the working folder on ``sys.path`` as a Jupyter kernel has it, but last: the sandbox starts
        Python isolated (no working folder on the path), and a module the learner's own code writes there
        (``%%writefile helpers.py``) can then be imported, while nothing there can stand in for a module the
        setup or any library imports (only the release's own files are in that folder to begin with).
        """
        import os as _os

        if _os.getcwd() not in _sys.path:
            _sys.path.append(_os.getcwd())
        self.builtins = {k: v for k, v in vars(_builtins).items() if k not in _KERNEL_BUILTINS}
        # IPython puts a few of its own (e.g. `open`) in the user's namespace: those are not shadows.
        self.kernel_globals = {k: v for k, v in self.ns.items() if k in self.builtins}
        for name in _MODULES:
            module = _sys.modules.get(name)
            if module is not None:
                self.modules[name] = (module, dict(vars(module)))
        for module_name, class_name in _CLASSES:
            module = _sys.modules.get(module_name)
            owner = getattr(module, class_name, None) if module is not None else None
            if isinstance(owner, type):
                self.modules[f"{module_name}.{class_name}"] = (owner, dict(vars(owner)))
        self._answer({"status": "ok"})

    def _describe(self, names):
        """For each name: what the learner's namespace holds ("function", a plain value, or nothing)."""
        answer = {}
        for name in names:
            if name not in self.ns:
                answer[name] = ["missing", _near_miss(name, self.ns)]
                continue
            value = self.ns[name]
            if callable(value) and not isinstance(value, type):
                answer[name] = ["function", None]
                continue
            try:
                encode(value)
                answer[name] = ["value", value]
            except NotPlainData as error:
                answer[name] = ["other", f"{type(value).__name__} ({error})"]
        return answer

    def begin_test(self, text):
        """Put back what the submission replaced, bind the setup names, set shadows aside; then say what each
        name the test wants (and the grader does not hold) is.

        The grader sends a setup value (its encoding) only when it differs from the one it sent before
        (``same``: the names whose value is as sent before). Each test binds a fresh copy (``_fresh``), so
        nothing the learner's code does to the names' values reaches the next test.
        """
        setup, same, wanted = self._request(text)
        lacking = [name for name in same if name not in self.setup]
        if lacking:  # not what this helper was sent: the grader installs it again and sends everything
            self._answer({"status": "lacking", "names": lacking[:20]})
            return
        for name, encoded in setup.items():
            started = _clock()
            value = decode(encoded)
            self.setup[name] = (encoded, value, _how_to_copy(value, _clock() - started))
        changed = []
        if self.builtins is not None:
            for key, value in self.builtins.items():
                if vars(_builtins).get(key, None) is not value:
                    setattr(_builtins, key, value)
                    changed.append(f"builtins.{key}")
            for label, (owner, attributes) in self.modules.items():
                if isinstance(owner, type(_sys)) and _sys.modules.get(label) is not owner:
                    _sys.modules[label] = owner
                    changed.append(f"sys.modules[{label!r}]")
                for key, value in attributes.items():
                    if vars(owner).get(key, None) is not value:
                        try:
                            setattr(owner, key, value)
                            changed.append(f"{label}.{key}")
                        except (AttributeError, TypeError):
                            pass
                if isinstance(owner, type):
                    for key in [k for k in vars(owner) if k not in attributes]:
                        try:
                            delattr(owner, key)
                            changed.append(f"{label}.{key}")
                        except (AttributeError, TypeError):
                            pass
        for name in list(setup) + list(same):
            self.ns[name] = self._fresh(name)
        self.ns.update(self.aside)
        self.aside = {k: self.ns.pop(k) for k in list(self.ns)
                      if self.builtins and k in self.builtins and not k.startswith("_")
                      and self.ns[k] is not self.builtins[k] and self.ns[k] is not self.kernel_globals.get(k)}
        changed += [f"the name {k} (it hides the built-in)" for k in self.aside]
        self._answer({"status": "ok", "changed": changed, "described": self._describe(wanted)})

    def _fresh(self, name):
        """A copy of a setup value as the grader sent it, sharing nothing with any value bound before: a deep
        copy of the value as decoded, or the value decoded again (``_how_to_copy`` chose when it arrived)."""
        encoded, value, how = self.setup[name]
        return _deepcopy(value) if how == "copy" else decode(encoded)

    def end_test(self):
        self.ns.update(self.aside)
        self.aside = {}
        self._answer({"status": "ok"})

    def call(self, text):
        """Call a learner function with plain data; answer with plain data only."""
        push, name, args, kwargs = self._request(text)
        self.ns.update(push)
        function = self.ns.get(name)
        if function is None or not callable(function):
            self._answer({"status": "raised", "type": "NameError", "args": [f"name {name!r} is not defined"],
                          "message": f"name {name!r} is not defined", "printed": 0})
            return
        before = []
        for value in list(args) + list(kwargs.values()):
            try:
                before.append(encode(value))
            except NotPlainData:
                before.append(None)
        out = _Capped()
        saved = _sys.stdout, _sys.stderr
        _sys.stdout = _sys.stderr = out
        try:
            result = function(*args, **kwargs)
            answer = {"status": "ok", "value": result}
        except BaseException as error:  # noqa: B036 - whatever the learner raised is reported, never re-raised
            answer = self._raised(error)
        finally:
            _sys.stdout, _sys.stderr = saved
        answer["printed"] = out.count
        mutated = {}
        for position, (value, was) in enumerate(zip(list(args) + list(kwargs.values()), before)):
            try:
                now = encode(value)
            except NotPlainData:
                continue
            if was is not None and now != was:
                mutated[position] = value
        answer["mutated"] = mutated
        if answer["status"] == "ok":
            try:
                encode(result)
            except NotPlainData as error:
                answer = {"status": "notplain", "message": str(error), "type": type(result).__name__,
                          "printed": out.count, "mutated": mutated}
        self._answer(answer)

    @staticmethod
    def _raised(error):
        kind = type(error)
        allowed = next((k.__name__ for k in kind.__mro__ if k.__module__ == "builtins" and k.__name__ in _ALLOWED),
                       None)
        try:
            message = str(error)[:4000]
        except BaseException:  # noqa: B036 - a learner's __str__ may raise anything
            message = "(its message could not be read)"
        args = []
        for arg in getattr(error, "args", ())[:5]:
            if type(arg) in (str, int, float, bool, type(None)):
                args.append(arg[:4000] if type(arg) is str else arg)
            else:
                args = [message]
                break
        return {"status": "raised", "type": allowed or "", "real_type": kind.__name__[:100], "args": args,
                "message": message}


def install(shell, comm_id):
    """Put a new helper in the learner's namespace; it takes the grader's requests on the comm ``comm_id``."""
    shell.user_ns["__clientcare__"] = Server(shell.user_ns)
    listen(shell, comm_id)


def _how_to_copy(value, decoding):
    """"copy" if ``deepcopy`` makes a faithful copy of ``value`` and faster than decoding it took, else "decode".

    Both are checked once, when the value arrives: a long list is quicker to decode than to copy, a table of
    numbers far quicker to copy; ``deepcopy`` copies a data frame's table but not the lists or dicts held in
    its cells (``_shares_cells``).
    """
    if _shares_cells(value):
        return "decode"
    started = _clock()
    _deepcopy(value)
    return "copy" if _clock() - started < decoding else "decode"


def _shares_cells(value, depth=0):
    """Whether a copy of ``value`` made by ``deepcopy`` would share a mutable object with it: pandas copies the
    objects in a frame's, series' or index's cells by reference (anything nested too deep counts as shared)."""
    import pandas as _pd

    if depth > 20:
        return True
    if isinstance(value, dict):
        return any(_shares_cells(item, depth + 1) for item in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_shares_cells(item, depth + 1) for item in value)
    if isinstance(value, _pd.DataFrame):
        parts = [value.iloc[:, number] for number in range(value.shape[1])] + [value.index, value.columns]
    elif isinstance(value, _pd.Series):
        parts = [value, value.index]
    elif isinstance(value, _pd.Index):
        parts = [value]
    else:
        return False
    return any(part.dtype == object and any(type(cell) not in _IMMUTABLE for cell in part) for part in parts)


def listen(shell, comm_id):
    """Take the grader's requests on the comm ``comm_id`` (one per installation of the helper)."""
    from comm import create_comm, get_comm_manager

    manager = get_comm_manager()
    for earlier in [c for c in list(manager.comms.values()) if getattr(c, "target_name", "") == "clientcare"]:
        manager.unregister_comm(earlier)  # an earlier installation's comm answers nothing any more
    channel = create_comm(comm_id=comm_id, primary=False, target_name="clientcare")
    manager.register_comm(channel)
    channel.on_msg(lambda message: _serve(shell, channel, message))


def _serve(shell, channel, message):
    """One request: ``__clientcare__.<method>(argument)``, answered with the helper's reply (or "" if it failed)."""
    reply = ""
    try:
        data = message["content"]["data"]
        helper = shell.user_ns["__clientcare__"]
        helper.reply = ""
        method = getattr(helper, data["method"])
        if data.get("argument") is None:
            method()
        else:
            method(data["argument"])
        reply = helper.reply
    except BaseException:  # noqa: B036 - a helper the learner's code removed or broke (even to raise SystemExit)
        reply = ""            # answers nothing; the kernel goes on
    channel.send({"reply": reply if type(reply) is str else ""})
