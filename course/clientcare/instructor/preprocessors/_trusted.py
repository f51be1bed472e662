"""The trusted side: test cells run here, in the grader, never in the learner's kernel.

Each notebook gets a fresh namespace in which the course's setup cells run (with the
course's own data files). A test cell's names that neither the setup nor earlier
test cells define are looked up in the learner's kernel: a learner function becomes
a ``LearnerFunction`` proxy (calling it sends plain data there and gets plain data
back, see ``codec.py``), a learner variable holding plain data is copied in, and
anything else is left undefined. Whatever learner code does in its own kernel
(replace builtins, patch pandas, rebind setup names through frames, threads,
settrace, register IPython hooks or transformers, print an ``execute_result``), the
test's code, the values it compares with and its verdict stay here.
"""
from __future__ import annotations

import ast
import builtins
import re
import contextlib
import functools
import io
import os
import sys
import time
import traceback

import pandas as pd

from .. import codec
from ._kernel import KernelFault, LearnerKernel

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CHECKS_PREFIX = "# Checks:"
PLAIN_ADVICE = ("return plain values: str, int, float, bool, None, list, tuple, dict, set, "
                "datetime, Decimal, numpy arrays or a pandas DataFrame or Series")


class LearnerError(Exception):
    """A learner function raised something other than a built-in exception a test could expect."""


class NotPlainResult(Exception):
    """A learner function returned something that is not plain data."""


class BudgetExhausted(BaseException):
    """The notebook's time budget is spent: nothing more runs."""


# A worker grades the same test cells for learner after learner: what depends only on a test cell's source
# is worked out once per source.
_SAME_TESTS = 1024


@functools.lru_cache(maxsize=_SAME_TESTS)
def referenced_names(source: str) -> frozenset[str]:
    """Names a cell reads (anywhere in it), minus those it binds at its top level before or after."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # the test then fails with that error when it runs
        return frozenset()
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    bound = set()
    for node in tree.body:
        for sub in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) else [node]:
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                bound.add(sub.id)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(sub.name)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                bound.update((alias.asname or alias.name).split(".")[0] for alias in sub.names)
            elif isinstance(sub, ast.ExceptHandler) and sub.name:
                bound.add(sub.name)
    return frozenset(read - bound)


@functools.lru_cache(maxsize=_SAME_TESTS)
def hidden_lines(source: str) -> frozenset[int]:
    """Line numbers (1-based) of the cell's hidden tests."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif inside:
            lines.add(number)
    return frozenset(lines)


@functools.lru_cache(maxsize=_SAME_TESTS)
def _compiled(source: str, filename: str):
    """A test cell's code object (immutable: each notebook runs it in its own namespace)."""
    return compile(source, filename, "exec")


def checks_line(source: str) -> str:
    """The cell's ``# Checks: ...`` line (what the part checks, written for learners), or ""."""
    for line in source.splitlines():
        if line.strip().startswith(CHECKS_PREFIX):
            return line.strip()[len(CHECKS_PREFIX):].strip()
    return ""


def _leaves(value, found: set, depth: int = 0) -> None:
    """Strings and specific numbers inside a value (what a learner function was given by a hidden test)."""
    if depth > 20 or len(found) > 5000:
        return
    if type(value) is str:
        if len(value.strip()) >= 4:
            found.update((value, value[::-1]))  # as given, and reversed (``Redactor`` ignores case)
    elif type(value) in (int, float) and value == value and abs(value) != float("inf"):
        forms = {repr(value), f"{value:.2f}", f"{value:,}", f"{value:,.2f}"}
        if float(value).is_integer():
            forms.add(str(int(value)))
        forms |= {form[::-1] for form in forms}  # reversed too
        found.update(form for form in forms if _digits(form) >= 2)  # a single digit is everywhere
    elif type(value) in (list, tuple, set, frozenset):
        for item in value:
            _leaves(item, found, depth + 1)
    elif type(value) is dict:
        for key, item in value.items():
            _leaves(key, found, depth + 1)
            _leaves(item, found, depth + 1)
    elif type(value) in (pd.DataFrame, pd.Series):
        frame = value.to_frame() if type(value) is pd.Series else value
        for item in list(frame.columns) + list(frame.index) + frame.to_numpy(dtype=object).ravel().tolist()[:5000]:
            _leaves(item.item() if hasattr(item, "item") and not isinstance(item, (str, bytes)) else item,
                    found, depth + 1)


def _digits(form: str) -> int:
    """Significant digits of a number as written (``7.00`` has one, ``250`` three)."""
    head, _, tail = form.partition(".")
    return sum(ch.isdigit() for ch in head) + sum(ch.isdigit() for ch in tail.rstrip("0"))


def _write_back(original, changed) -> None:
    """Apply in place what a learner function did to an argument (so "must not modify" tests still see it)."""
    try:
        if type(original) is dict and type(changed) is dict:
            original.clear()
            original.update(changed)
        elif type(original) is list and type(changed) is list:
            original[:] = changed
        elif type(original) is set and type(changed) is set:
            original.clear()
            original.update(changed)
        elif type(original) in (pd.DataFrame, pd.Series) and type(changed) is type(original):
            original._update_inplace(changed)
            if type(original) is pd.Series:
                original.name = changed.name
    except Exception:  # an argument that cannot be updated in place stays as the test made it
        pass


class LearnerFunction:
    """Stands for a function defined in the learner's kernel; calls cross the boundary as plain data."""

    def __init__(self, session: "Session", name: str):
        self._session = session
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self._session.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


class Session:
    """The trusted namespace of one notebook and its link to the learner's kernel."""

    def __init__(self, log):
        self.log = log
        self.kernel: LearnerKernel | None = None
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.setup_names: set[str] = set()  # plain-data names the setup cells bound
        self.pushed: dict[str, str] = {}    # name -> encoding last sent to the kernel
        self.sent: dict[str, str] = {}      # name -> encoding the kernel's helper holds as its setup value
        self.sent_to: tuple = ()            # (kernel, helper's comm) that ``sent`` describes
        self.injected: set[str] = set()     # learner names copied into the namespace for the current test
        self.missing: set[str] = set()
        self.near: dict[str, str] = {}      # a missing name -> a learner name that only looks like it
        self.deadline = 0.0
        self.watch: set[str] = set()         # setup names the current test reads (re-sent when they change)
        self.events: list[tuple] = []        # (what, function, detail) for the notes
        self.printed = 0
        self.test_file, self.hidden = "", set()
        self.secrets: set[str] = set()       # what hidden tests gave learner functions (never shown to learners)
        self.dirty: dict[str, str] = {}      # setup name -> its encoding before a learner function modified it
        self.at_start: dict[str, str] = {}   # setup name -> its encoding when the current test began

    # -- setup

    def run_setup(self, sources: list[str], folder: str) -> str:
        """Run the course's setup cells here, in ``folder``; returns an error message or ""."""
        before = set(self.ns)
        saved = os.getcwd()
        try:
            os.chdir(folder)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                for number, source in enumerate(sources, start=1):
                    exec(compile(source, f"<setup cell {number}>", "exec"), self.ns)
        except Exception as error:
            return f"{type(error).__name__}: {error}"
        finally:
            os.chdir(saved)
        for name in set(self.ns) - before:
            try:
                self.pushed[name] = codec.encode(self.ns[name])
                self.setup_names.add(name)
            except codec.NotPlainData:
                pass
        return ""

    def setup_values(self) -> tuple[dict, list[str]]:
        """Every plain-data setup name as the test side holds it now, for the kernel before each test:
        (the encodings of the values the kernel's helper does not hold yet, the names whose value it holds as
        they are)."""
        if self.sent_to != (self.kernel, self.kernel.comm_id):  # a new kernel, or its helper installed again
            self.sent, self.sent_to = {}, (self.kernel, self.kernel.comm_id)
        values, same = {}, []
        for name in sorted(self.setup_names):
            if name in self.ns:
                try:
                    text = codec.encode(self.ns[name])
                except codec.NotPlainData:
                    continue
                self.pushed[name] = text
                if self.sent.get(name) == text:
                    same.append(name)
                else:
                    values[name] = text
                    self.sent[name] = text
        return values, same

    def _setup_encodings(self, names=None) -> dict[str, str]:
        """The encoding of each plain-data setup name (of ``names`` only, if given) as the test side holds it."""
        encodings = {}
        for name in self.setup_names if names is None else names:
            try:
                encodings[name] = codec.encode(self.ns[name])
            except (codec.NotPlainData, KeyError):
                continue
        return encodings

    def _changed_setup(self) -> dict:
        changed = {}
        for name in self.watch:
            try:
                text = codec.encode(self.ns[name])
            except (codec.NotPlainData, KeyError):
                continue
            if text != self.pushed.get(name):
                self.pushed[name] = text
                changed[name] = self.ns[name]
        return changed

    # -- a test cell

    def prepare(self, source: str, deadline: float, filename: str = "") -> list[str]:
        """Bring the learner names the test reads into the namespace; returns what was put back in the kernel."""
        self.deadline = deadline
        self.test_file, self.hidden = filename, hidden_lines(source)
        # The course's data a learner function modified in place (an argument the test passed as it is) is put
        # back: the test that checks "must not modify" saw the change; no later test is judged on changed data.
        for name, text in self.dirty.items():
            self.ns[name] = codec.decode(text)
        self.dirty = {}
        for name in self.injected:
            self.ns.pop(name, None)
        self.injected, self.missing, self.near = set(), set(), {}
        names = referenced_names(source)
        self.watch = names & self.setup_names
        wanted = sorted(n for n in names if n not in self.ns and not hasattr(builtins, n))
        # one round trip: the setup names in, what was put back and what each wanted name is, out
        # (the payload is made again if the helper has to be installed again: a new helper holds nothing yet)
        _, answer = self.kernel.ask("begin_test", lambda: codec.encode((*self.setup_values(), wanted)), deadline,
                                    expect=lambda answer: isinstance(answer.get("described"), dict))
        self.at_start = dict(self.pushed)
        changed = answer.get("changed", []) if isinstance(answer, dict) else []
        changed = [str(c) for c in changed] if isinstance(changed, list) else []
        if wanted:
            described = answer.get("described") if isinstance(answer, dict) else None
            if not isinstance(described, dict):
                raise LearnerError("the kernel did not say which of your functions exist")
            for name in wanted:
                found = described.get(name)
                kind, value = found if type(found) is list and len(found) == 2 else ("missing", None)
                if kind == "function":
                    self.ns[name] = LearnerFunction(self, name)
                    self.injected.add(name)
                elif kind == "value":
                    self.ns[name] = value
                    self.injected.add(name)
                elif kind == "other":
                    self.missing.add(name)
                    self.events.append(("unusable", name, str(value), "", False))
                else:
                    self.missing.add(name)
                    if type(value) is str and value:
                        self.near[name] = value
        return list(changed)

    def hidden_changes(self) -> None:
        """After a test with hidden lines: what it changed in the setup's values is a hidden input too (the kernel
        is sent the values before the next test, and a later cell of the learner's could print them)."""
        if not self.hidden:
            return
        for name, text in self._setup_encodings().items():
            if text != self.at_start.get(name):
                _leaves(self.ns[name], self.secrets)

    def _called_from_hidden_test(self) -> bool:
        """Whether any line of the test cell on the way to this call is hidden: a helper the visible lines define
        and the hidden lines call is passing hidden inputs (``run_test`` judges a failure's place the same way)."""
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.test_file and frame.f_lineno in self.hidden:
                return True
            frame = frame.f_back
        return False

    def call(self, name: str, args: tuple, kwargs: dict):
        from_hidden = bool(self.hidden) and self._called_from_hidden_test()
        changed = self._changed_setup()
        if from_hidden:  # what it is given, and the setup's values as hidden lines changed them
            _leaves((args, kwargs, changed), self.secrets)
        try:
            payload = codec.encode((changed, name, tuple(args), dict(kwargs)))
        except codec.NotPlainData as error:
            raise TypeError(f"{name}() was called with something that cannot be sent to your code ({error})") from None
        _, answer = self.kernel.ask("call", payload, self.deadline)
        if not isinstance(answer, dict) or "status" not in answer:
            raise LearnerError(f"{name}() sent back something the tests cannot read")
        self.printed += answer.get("printed", 0) if type(answer.get("printed")) is int else 0
        mutated = answer.get("mutated") if isinstance(answer.get("mutated"), dict) else {}
        everything = list(args) + list(kwargs.values())
        before = self._setup_encodings() if mutated else {}
        for position, value in mutated.items():
            if type(position) is int and 0 <= position < len(everything):
                _write_back(everything[position], value)
        for setup_name, text in self._setup_encodings(before).items():
            if text != before[setup_name]:
                self.dirty.setdefault(setup_name, before[setup_name])
                self.events.append(("modified", name, setup_name, "", from_hidden))
        if answer["status"] == "ok":
            return answer.get("value")
        if answer["status"] == "notplain":
            self.events.append(("notplain", name, str(answer.get("type", "")), str(answer.get("message", ""))[:300],
                                from_hidden))
            raise NotPlainResult(f"{name}() returned a {answer.get('type', 'value')}, which the tests cannot check "
                                 f"({answer.get('message', '')}); {PLAIN_ADVICE}")
        kind_name, real = str(answer.get("type", "")), str(answer.get("real_type", ""))
        message = str(answer.get("message", ""))
        self.events.append(("raised", name, real, message, from_hidden))
        kind = getattr(builtins, kind_name, None) if kind_name else None
        if isinstance(kind, type) and issubclass(kind, Exception):
            args = answer.get("args") if isinstance(answer.get("args"), list) else [message]
            try:
                error = kind(*args)
            except Exception:
                error = kind(message)
        else:
            error = LearnerError(f"{name}() raised {real or 'an error'}: {message}"[:2000])
        error._clientcare_call = (name, real, message)
        raise error


def run_test(session: Session, source: str, filename: str) -> tuple[str, BaseException | None, bool]:
    """Execute a test cell's source in the trusted namespace: (what it printed, the error, raised in hidden code)."""
    out = io.StringIO()
    hidden = hidden_lines(source)
    try:
        code = _compiled(source, filename)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            exec(code, session.ns)
    except (Exception, KernelFault, BudgetExhausted) as error:
        in_hidden = any(frame.f_code.co_filename == filename and line in hidden
                        for frame, line in traceback.walk_tb(error.__traceback__))
        return out.getvalue(), error, in_hidden
    return out.getvalue(), None, False


HIDDEN_INPUT = "[hidden test input]"
WITHHELD = "[output withheld: it could not be checked for hidden test inputs in time]"
REDACTION_SECONDS = 30.0  # what redacting one notebook's outputs and notes may take in all


class RedactionTime:
    """The time one notebook's redacting may take (its redactors' work together, not the grading around it):
    once spent, text is withheld whole.

    Learner code chooses much of the text and, through what its functions do to their arguments, some of
    the inputs to look for; matching is linear in both, and this bounds the rest.
    """

    def __init__(self, seconds: float = REDACTION_SECONDS):
        self.seconds = seconds
        self.used = 0.0  # seconds spent redacting so far

    def spent(self, running: float = 0.0) -> bool:
        """Whether the time is spent, counting ``running`` seconds of a redaction not yet added."""
        return self.used + running >= self.seconds


class Redactor:
    """Replaces every hidden test input the learner's code could have echoed by a placeholder.

    Strings are matched whatever their case (letter by letter in lower case, and reversed, see
    ``_leaves``); numbers as whole numbers in any of their usual forms (``4980``, ``4980.0``,
    ``4,980.00``). What the learner can read in the notebook anyway (``visible``) is left alone. Which
    inputs to look for is decided once, here: a notebook's hidden tests can give its functions thousands
    of numbers, and its visible text is long. Each input is looked for in time linear in the text's
    length and its own (a string search, or a regular expression that starts with the number itself).
    """

    def __init__(self, secrets: set[str], visible: str, time_left: RedactionTime | None = None):
        lowered = visible.lower()
        self.time_left = time_left or RedactionTime()
        self.steps: list = []  # a compiled pattern (a number) or a lower-case string, longest first
        for secret in sorted(secrets, key=len, reverse=True):
            if _is_number(secret):
                # not after a digit or a point, nor before a digit or a decimal part; the number itself first,
                # so that the regular expression engine looks for it directly rather than trying every position
                literal = re.escape(secret)
                pattern = re.compile(literal + r"(?<![\d.]" + literal + r")(?![\d]|[.,]\d)")
                if secret in visible and pattern.search(visible):
                    continue
                self.steps.append(pattern)
            elif secret.lower() not in lowered:
                self.steps.append(secret.lower())

    def __call__(self, text: str) -> str:
        started = time.monotonic()
        try:
            for number, step in enumerate(self.steps):
                if number % 64 == 0 and self.time_left.spent(time.monotonic() - started):
                    return WITHHELD
                if isinstance(step, str):
                    text = _replace_lowered(text, step)
                else:
                    text = step.sub(HIDDEN_INPUT, text)
            return text
        finally:
            self.time_left.used += time.monotonic() - started


def _replace_lowered(text: str, wanted: str) -> str:
    """``text`` with each occurrence of ``wanted`` (lower case), compared letter by letter in lower case, hidden."""
    lowered = text.lower()
    if wanted not in lowered:
        return text
    letter_at = None  # where each letter of the text starts in ``lowered``, if not at the same place
    if len(lowered) != len(text):  # (lower() lengthens only a few letters, such as "İ")
        letters = [letter.lower() for letter in text]
        lowered = "".join(letters)
        letter_at, position = {}, 0
        for index, letter in enumerate(letters):
            letter_at[position] = index
            position += len(letter)
        letter_at[position] = len(text)
    pieces, done, found = [], 0, lowered.find(wanted)
    while found != -1:
        first = found if letter_at is None else letter_at.get(found)
        last = found + len(wanted) if letter_at is None else letter_at.get(found + len(wanted))
        if first is None or last is None or first < done:  # not on whole letters of the text
            found = lowered.find(wanted, found + 1)
            continue
        pieces += [text[done:first], HIDDEN_INPUT]
        done = last
        found = lowered.find(wanted, found + len(wanted))
    return "".join(pieces) + text[done:]


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?[\d,]+(\.\d*)?(e[-+]?\d+)?", text))
