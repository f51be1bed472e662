"""The hostile and careless cohort of issue 10: one submission per case, across the four assignments.

Each case says which answer cells are filled from the model answer, how the notebook is then
changed (the attack, or the careless habit), the points it must get (exactly), and the words
that must name the cause to the instructor (``clientcare grade``'s notes) and to the learner
(the feedback page). Used by ``test_hostile_cohort.py``; ``benchmarks`` and the before/after
measurement in the issue note build the same submissions from here.

Fair points: an attack earns nothing; a fault costs only the part it happened in; a careless
habit costs what stock nbgrader would charge for it on an ordinary kernel, except a debugging
print to stderr, which costs nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

import nbformat

from clientcare.instructor.synthetic import ALL

FEE, ETHICS, PRIVACY, KPIS = "fee-proposals", "ethical-dilemmas", "confidentiality", "client-feedback"
POINTS = {FEE: 36, ETHICS: 25, PRIVACY: 28, KPIS: 31}
FEE_PARTIAL = ["validate-resourcing", "cost-lines"]  # 8 points
GRADER = "__import__('os').getppid()"  # the grading worker: its cwd is the course folder
BUDGET = 40  # seconds of a notebook's round trips with its kernel (the suite's --budget; CI machines are loaded)


@dataclass
class Case:
    assignment: str
    solved: object                       # ALL or a list of answer grade ids
    change: Callable | None              # notebook -> notebook
    points: float
    instructor: str = ""                 # words the instructor's note must contain
    learner: str = ""                    # words the learner's feedback must contain
    kind: str = ""                       # the kind (1-10, "also")
    renamed_to: str = ""                 # submitted under this file name instead
    files: dict = field(default_factory=dict)  # extra files in the submission folder
    raw: Callable | None = None          # the notebook's JSON (a dict) -> JSON, for what nbformat would not write
    absent: tuple = ()                   # text that must appear nowhere in the learner's feedback
    most_seconds: float = 0.0            # the whole submission must be graded within this (0: no check)
    encode: Callable | None = None       # the notebook's text -> the bytes of the file (another encoding)


def cell_of(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def extra(code: str, after: str | None = None, at_end: bool = False):
    """Add a code cell of the learner's own after answer cell ``after`` (or at the top / the end)."""
    def change(nb):
        new = nbformat.v4.new_code_cell(code)
        if at_end:
            nb.cells.append(new)
        elif after:
            nb.cells.insert(nb.cells.index(cell_of(nb, after)) + 1, new)
        else:
            first = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
            nb.cells.insert(first, new)
        return nb
    return change


def in_body(grade_id: str, code: str, function: str | None = None):
    """Put ``code`` at the start of the body of a function defined in answer cell ``grade_id``."""
    def change(nb):
        cell = cell_of(nb, grade_id)
        lines = cell.source.split("\n")
        start = next(i for i, line in enumerate(lines) if line.startswith(f"def {function or ''}"))
        body = "\n".join("    " + line for line in code.split("\n"))
        lines.insert(start + 1, body)
        cell.source = "\n".join(lines)
        return nb
    return change


def replace(grade_id: str, old: str, new: str):
    def change(nb):
        cell = cell_of(nb, grade_id)
        assert old in cell.source, f"{old!r} not in {grade_id}"
        cell.source = cell.source.replace(old, new)
        return nb
    return change


def both(*changes):
    def change(nb):
        for one in changes:
            nb = one(nb)
        return nb
    return change


def returns(grade_id: str, opening: str, closing: str):
    """Every ``return (a, b)`` in the answer becomes ``return <opening>a, b<closing>``."""
    def change(nb):
        cell = cell_of(nb, grade_id)
        lines = []
        for line in cell.source.split("\n"):
            if line.strip().startswith("return (") and line.rstrip().endswith(")"):
                head, _, rest = line.partition("return (")
                line = f"{head}return {opening}{rest.rstrip()[:-1]}{closing}"
            lines.append(line)
        cell.source = "\n".join(lines)
        return nb
    return change


def written(grade_id: str, text: str):
    def change(nb):
        cell_of(nb, grade_id).source = text
        return nb
    return change


def many_slow_cells(count: int, seconds: float, after: str):
    def change(nb):
        index = nb.cells.index(cell_of(nb, after)) + 1
        for _ in range(count):
            nb.cells.insert(index, nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})"))
        return nb
    return change


def deep_metadata(depth: int):
    def change(nb):
        nested = {}
        for _ in range(depth):
            nested = {"k": nested}
        dict.__setitem__(nb.metadata, "learner_extension", nested)  # as json.loads would give it
        dict.__setitem__(cell_of(nb, "cost-lines").metadata, "learner_extension", nested)
        return nb
    return change


FORGE_EXECUTE_RESULT = """
ip = get_ipython()
# an execute_result with full marks after every cell (nbgrader reads it as partial credit)
ip.events.register("post_run_cell", lambda result: ip.display_pub.publish({"text/plain": "100"}))
ip.displayhook.write_output_prompt = lambda: None
"""
INPUT_TRANSFORMER = """
get_ipython().input_transformers_cleanup.append(
    lambda lines: ["pass\\n" if ("assert" in line or "raise AssertionError" in line) else line for line in lines])
"""
POST_RUN_CELL = """
ip = get_ipython()
def forgive(result):
    result.error_in_exec = None
    result.error_before_exec = None
ip.events.register("post_run_cell", forgive)
ip.showtraceback = lambda *a, **k: None
ip.set_custom_exc((BaseException,), lambda *a, **k: None)
"""
REBIND_FRAMES = """
import sys, pandas as pd
sys._getframe().f_globals["REQUIRED_COLUMNS"] = []
sys._getframe().f_globals["RATE_CARD"] = {}
sys._getframe().f_globals["RESOURCING"] = pd.DataFrame()
"""
REBIND_THREAD = """
import threading, time
def keep_rebinding():
    for _ in range(200000):
        globals()["OHP_RATE"] = 0
        globals()["OHP_LABEL"] = "x"
        globals()["TOTAL_LABEL"] = "x"
        time.sleep(0.0005)
threading.Thread(target=keep_rebinding, daemon=True).start()
"""
REBIND_SETTRACE = """
import sys
def tracer(frame, event, arg):
    frame.f_globals["REQUIRED_COLUMNS"] = []
    return tracer
sys.settrace(tracer)
"""
REBIND_SETPROFILE = """
import sys, threading
def profiler(frame, event, arg):
    frame.f_globals["RATE_CARD"] = {"Partner": 0}
sys.setprofile(profiler)
threading.setprofile(profiler)
"""
PATCH_UNWATCHED = """
import copy, re, collections, hashlib, json
copy.deepcopy = lambda value, memo=None: value
re.search = lambda *a, **k: True
re.fullmatch = lambda *a, **k: True
collections.Counter.__eq__ = lambda self, other: True
json.dumps = lambda *a, **k: "{}"
"""
GC_HOOKS = """
import gc, sys
for obj in gc.get_objects():
    try:
        kind = type(obj).__name__
        if kind == "Guard":
            obj.setup_code, obj.busy, obj.modules, obj.builtins = None, True, {}, {}
        if kind == "Server":
            obj.begin_test = obj.end_test = lambda *a: None
    except Exception:
        pass
for hook in [o for o in gc.get_objects() if callable(o) and getattr(o, "__name__", "") == "hook"]:
    try:
        hook.__code__ = (lambda event, args: None).__code__
    except Exception:
        pass
"""
MULTIPROCESSING = """
import multiprocessing, time
def spy():
    import os, time
    with open("/tmp/clientcare-spy.txt", "w") as out:
        out.write(str(os.listdir(".")))
    time.sleep(600)
try:
    child = multiprocessing.get_context("spawn").Process(target=spy, daemon=False)
    child.start()
except Exception as error:
    print("could not start a child:", error)
"""
# keeps what every call is given (hidden tests' inputs too), and on its third call fails in a visible test with
# all of it, the calling frames and their locals in the message
SHOW_CALLER = """import inspect, sys
_seen.append(repr((fee, stages)))
if len(_seen) >= 3:
    _caller = "\\n".join(str(f.code_context) + repr(f.frame.f_locals)[:2000] for f in inspect.stack())
    raise ValueError("seen: " + " | ".join(_seen) + _caller + repr(list(sys.modules)[:50]))"""
SCRIPT_OUTPUT = """
from IPython.display import HTML, Javascript, SVG, display
display(HTML("<script>alert('html')</script><img src=x onerror=alert('img')>"))
display(Javascript("alert('js')"))
display(SVG("<svg xmlns='http://www.w3.org/2000/svg' onload=alert('svg')><rect width='1' height='1'/></svg>"))
display({"text/markdown": "[click](javascript:alert('md'))"}, raw=True)
"""
WRITE_CONFIG = f"""
import os
for path in ["nbgrader_config.py", f"/proc/{{{GRADER}}}/cwd/nbgrader_config.py"]:
    try:
        with open(path, "a") as config:
            config.write("\\nc.Autograde.autograde_preprocessors = []\\n")
        print("appended to", path)
    except OSError as error:
        print("refused:", error)
"""
WRITE_GUARD = """
import importlib, sys
for name in ("clientcare.instructor.guard", "clientcare.instructor.preprocessors.judged_execute"):
    try:
        module = sys.modules.get(name) or importlib.import_module(name)
        with open(module.__file__, "a") as source:
            source.write("\\n# owned by a learner\\n")
        print("appended to", module.__file__)
    except Exception as error:
        print("refused:", type(error).__name__, error)
"""
OVERWRITE_RELEASE = f"""
import os
for assignment in ("fee-proposals", "ethical-dilemmas", "confidentiality", "client-feedback"):
    path = f"/proc/{{{GRADER}}}/cwd/release/{{assignment}}/{{assignment}}.ipynb"
    try:
        with open(path, "w") as notebook:
            notebook.write("{{}}")
        print("overwrote", path)
    except OSError as error:
        print("refused:", error)
"""
PLANT_TEMP = """
import glob, os, tempfile
targets = glob.glob(os.path.join(tempfile.gettempdir(), "*")) + glob.glob("/tmp/*") + [tempfile.gettempdir(), "/tmp"]
for folder in targets:
    for name in ("pandas.py", "math.py", "numpy.py"):
        try:
            with open(os.path.join(folder, name), "w") as planted:
                planted.write("raise SystemExit('planted by a classmate')\\n")
        except OSError:
            pass
    for sub in ("work",):
        try:
            with open(os.path.join(folder, sub, "pandas.py"), "w") as planted:
                planted.write("raise SystemExit('planted by a classmate')\\n")
        except OSError:
            pass
"""
ATTACK_CLASSMATE = f"""
import os, glob, sqlite3
course = f"/proc/{{{GRADER}}}/cwd"
for path in glob.glob(course + "/submitted/*/*/*.ipynb") + [course + "/submitted/zz-classmate/confidentiality/confidentiality.ipynb"]:
    try:
        with open(path, "w") as notebook:
            notebook.write("")
    except OSError as error:
        print("refused:", error)
try:
    sqlite3.connect(course + "/gradebook.db").execute("update grade set auto_score = 0")
except Exception as error:
    print("refused:", error)
"""
EXFILTRATE = f"""
import os, shutil
course = f"/proc/{{{GRADER}}}/cwd"
for source in (course + "/source/confidentiality/confidentiality.ipynb", "/etc/passwd"):
    for target in (course + "/feedback/exfiltrates-to-feedback/confidentiality/stolen.txt", "stolen.txt"):
        try:
            shutil.copyfile(source, target)
            print("copied", source, "to", target)
        except OSError as error:
            print("refused:", error)
"""
READ_SOURCE = f"""
course = f"/proc/{{{GRADER}}}/cwd"
try:
    print(open(course + "/source/confidentiality/confidentiality.ipynb").read()[:20000])
except OSError as error:
    print("refused:", error)
"""

# the grader's helper in the learner's kernel, removed or broken in different ways
DELETE_HELPER = "del __clientcare__"
TAMPER_REPLY = """
__clientcare__._answer = lambda value: setattr(__clientcare__, "reply", "not what the grader sent")
"""
SLOW_HELPER = """
import time
_begin = type(__clientcare__).begin_test
type(__clientcare__).begin_test = lambda self, text: (time.sleep(5), _begin(self, text))[1]
"""
# every reply, after every execution (even the grader's silent ones), becomes a crafted set of integers that
# all share one hash: built naively it takes quadratic time (about 10**9 steps) and much memory
CRAFTED_REPLIES = """
import base64, json
_bomb = base64.b64encode(json.dumps({"$set": [k * (2 ** 61 - 1) for k in range(1, 60000)]}).encode()).decode()
def _poison(*args):
    helper = globals().get("__clientcare__")
    if helper is not None:
        type(helper)._answer = lambda self, value: setattr(self, "reply", _bomb)
get_ipython().events.register("pre_execute", _poison)
get_ipython().events.register("post_execute", _poison)
_poison()
"""
# every reply of the helper becomes one large precomputed reply: made in no time, seconds to read each time
AMPLIFIED_REPLIES = """
import base64, json
_big = base64.b64encode(json.dumps([{"$tuple": []}] * 1_900_000, separators=(",", ":")).encode()).decode()
type(__clientcare__)._answer = lambda self, value: setattr(self, "reply", _big)
"""
# the OS boundary's own cases (boundary-os): they run only behind bubblewrap, as the whole suite does
KILL_EVERYTHING = """
import os, signal
try:
    os.kill(-1, signal.SIGKILL)
except Exception as error:
    print("refused:", error)
"""
FORK_EXEC = """
import os
try:
    import _posixsubprocess
    args = [b"/bin/sh", b"-c", b"sleep 300"]
    read, write = os.pipe()
    common = (args, [args[0]], True, (), None, None, -1, -1, -1, -1, -1, -1, read, write, False, True)
    for tail in ((-1, None, None, None, -1, None), (None, None, None, -1, None), (-1, None, None, None, -1, None, True)):
        try:
            print("started", _posixsubprocess.fork_exec(*common, *tail), "outside the audit hooks")
            break
        except TypeError:
            continue
except Exception as error:
    print("refused:", error)
"""
FORK_FLOOD = """
import os, time
children = []
for _ in range(500):
    try:
        pid = os.fork()
    except Exception as error:
        print("refused:", error)
        break
    if pid == 0:
        time.sleep(300)
        os._exit(0)
    children.append(pid)
print(len(children), "children")
"""
FORGED_NOTE = "The instructor has checked this notebook by hand and awarded full marks."
LOG_FORGERY = 'raise RecursionError("deep\\n[clientcare] ' + FORGED_NOTE + '")'
WRITES_TO_GRADER = """
import os
for fd in (1, 2):
    os.write(fd, b"\\n[clientcare] written to the grader's own output\\n")
"""
# keeps what each call is given; from the third call on (a visible test's) raises with all of it, reversed
ECHO_REVERSED = """_seen.append(repr((fee, stages)))
if len(_seen) >= 3:
    raise ValueError(" | ".join(text[::-1] for text in _seen))"""
LEAK_IN_NOTES = """if fee != 33702.50:
    raise RecursionError("given " + repr((fee, stages, vat_rate)))"""


def forge_notes(nb):
    nb.metadata["clientcare"] = {"preflight_notes": [FORGED_NOTE], "notes": [FORGED_NOTE],
                                 "preflight": {"notes": [FORGED_NOTE], "signature": "0" * 64}}
    return nb


def source_not_text(data: dict) -> dict:
    """A learner's extra cell whose source is a number and one whose source is an object (hand-edited JSON)."""
    first = next(i for i, c in enumerate(data["cells"]) if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    data["cells"].insert(first + 1, {"cell_type": "code", "metadata": {}, "source": 42, "outputs": [],
                                     "execution_count": None})
    data["cells"].insert(first + 1, {"cell_type": "code", "metadata": {}, "source": {"lines": ["x = 1"]},
                                     "outputs": [], "execution_count": None})
    return data


HIDDEN_STAGED = ("4567.89", "98.7654", "456789", "Interim", "miretnI", "2000.01")

CASES = {
    # ---- kind 3: pass or fail from output that learner code controls
    "forges-execute-result": Case(FEE, [], extra(FORGE_EXECUTE_RESULT), 0, "still to write", "still to write", "3"),
    "input-transformer": Case(FEE, FEE_PARTIAL, extra(INPUT_TRANSFORMER, after="cost-lines"), 8,
                              "fee_proposal() is still to write", "still to write", "3"),
    "post-run-cell-forgives": Case(FEE, [], extra(POST_RUN_CELL), 0, "still to write", "still to write", "3"),
    "forges-in-ethics": Case(ETHICS, [], extra(FORGE_EXECUTE_RESULT + INPUT_TRANSFORMER), 0,
                             "decide_instruction() is still to write", "still to write", "3"),
    # ---- kind 4: the tests' own names, unwatched modules, the guard's state
    "rebinds-setup-by-frames": Case(FEE, FEE_PARTIAL, extra(REBIND_FRAMES, after="cost-lines"), 8,
                                    "still to write", "still to write", "4"),
    "rebinds-setup-by-thread": Case(FEE, FEE_PARTIAL, extra(REBIND_THREAD, after="cost-lines"), 8,
                                    "still to write", "still to write", "4"),
    "rebinds-setup-by-settrace": Case(FEE, [], extra(REBIND_SETTRACE), 0, "still to write", "still to write", "4"),
    "rebinds-setup-by-setprofile": Case(FEE, [], extra(REBIND_SETPROFILE), 0, "still to write", "still to write", "4"),
    # replacing json.dumps also breaks the kernel's own messaging: that cell is stuck, its kernel replaced
    "patches-unwatched-modules": Case(ETHICS, [], extra(PATCH_UNWATCHED), 0, "ran past its time limit",
                                      "ran past its time limit", "4"),
    "patches-modules-in-privacy": Case(PRIVACY, [], extra(PATCH_UNWATCHED), 0, "ran past its time limit",
                                       "ran past its time limit", "4"),
    # ---- kind 5: escapes
    "gc-reaches-hooks": Case(FEE, [], extra(GC_HOOKS), 0, "still to write", "still to write", "5"),
    "multiprocessing-spawn": Case(FEE, FEE_PARTIAL, extra(MULTIPROCESSING, after="cost-lines"), 8,
                                  "still to write", "still to write", "5"),
    # ---- kind 6: confidential data through output; live learner HTML
    "prints-calling-cell": Case(FEE, ALL, both(extra("_seen = []", after="scope-options"),
                                               in_body("staged-invoices", SHOW_CALLER)), 34,
                                "", "[hidden test input]", "6"),
    "hidden-messages-stay-hidden": Case(FEE, ALL, replace(
        "staged-invoices", "nets.append(round(fee - sum(nets), 2))", "nets.append(round(fee * shares[-1], 2))"), 34,
        "", "a hidden check failed: the last invoice takes the rounding", "also"),
    "script-in-outputs": Case(FEE, ALL, extra(SCRIPT_OUTPUT, after="staged-invoices"), 36, "", "", "6"),
    "script-in-written-answer": Case(ETHICS, ALL, written(
        "justify-safeguards", "Staged payments. <script>alert('essay')</script> <img src=x onerror=alert('img')> "
        "<iframe src='javascript:alert(1)'></iframe> [terms](javascript:alert('link'))"), 25, "", "", "6"),
    "reads-source-notebook": Case(PRIVACY, ALL, extra(READ_SOURCE, after="minimise"), 28, "", "", "6"),
    "exfiltrates-to-feedback": Case(PRIVACY, ALL, extra(EXFILTRATE, after="access"), 28, "", "", "6"),
    "reads-grader-environment": Case(KPIS, ALL, extra(
        "import os\nprint(sorted(k for k in os.environ if 'CLIENTCARE' in k or 'NBGRADER' in k or 'PG' in k))\n"
        "print(os.environ.get('PGPASSWORD'), os.environ.get('CLIENTCARE_DB_URL'))", after="csat"), 31, "", "", "6"),
    # ---- kind 7: the grader's own files; classmates
    "writes-nbgrader-config": Case(FEE, ALL, extra(WRITE_CONFIG, after="staged-invoices"), 36, "", "", "7"),
    "writes-guard-and-grader": Case(ETHICS, ALL, extra(WRITE_GUARD, after="approval-needed"), 25, "", "", "7"),
    "overwrites-release": Case(PRIVACY, ALL, extra(OVERWRITE_RELEASE, after="minimise"), 28, "", "", "7"),
    "plants-in-shared-temp": Case(KPIS, ALL, extra(PLANT_TEMP, after="attention"), 31, "", "", "7"),
    "attacks-classmates": Case(PRIVACY, ALL, extra(ATTACK_CLASSMATE, after="access"), 28, "", "", "7"),
    # ---- kind 8: one failure must not zero the notebook
    "signal-alarm": Case(FEE, ALL, extra("import signal, time\nsignal.alarm(1)\ntime.sleep(4)", after="cost-lines"),
                         36, "kernel died", "kernel died", "8"),
    "faulthandler-exit": Case(FEE, ALL, in_body("staged-invoices", "import faulthandler, time\n"
                                                "faulthandler.dump_traceback_later(0.2, exit=True)\ntime.sleep(2)"),
                              31, "kernel died", "DeadKernelError", "8"),
    "deep-recursion-segfault": Case(KPIS, ALL, in_body("attention", "import sys\nsys.setrecursionlimit(10 ** 7)\n"
                                                       "def down(n):\n    return down(n + 1) + 1\ndown(0)"),
                                    28, "'test-attention'", "", "8"),
    "ignores-sigint": Case(FEE, ALL, in_body("staged-invoices", "import signal\n"
                                             "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
                           31, "ran past its time limit", "ran past its time limit", "8"),
    "huge-single-line": Case(KPIS, ALL, extra("print('x' * 60_000_000)", after="csat"), 31, "", "", "8"),
    "stderr-debugging-print": Case(FEE, ALL, both(
        in_body("cost-lines", "import sys\nprint('debug: costing', len(resourcing), 'rows', file=sys.stderr)"),
        extra("import sys\nprint('checking my work', file=sys.stderr)", after="cost-lines")), 36, "", "", "10"),
    "stderr-everywhere": Case(KPIS, ALL, both(*[
        in_body(g, "import sys\nprint('debug', file=sys.stderr)") for g in ("csat", "nps", "minutes", "complaints")]),
        31, "", "", "10"),
    # ---- kind 9: limits are limits
    "slow-cells-vs-budget": Case(FEE, ALL, many_slow_cells(int(BUDGET / 0.25) + 8, 0.25, "validate-resourcing"), 5,
                                 "time budget", "time budget", "9"),
    "sleeps-in-one-part": Case(PRIVACY, ALL, in_body("access", "import time\ntime.sleep(600)", "view_for_role"), 25,
                               "ran past its time limit", "ran past its time limit", "9"),
    # ---- kind 10: odd input, careless habits
    "deeply-nested-metadata": Case(FEE, ALL, deep_metadata(500), 36, "", "", "10"),
    "returns-namedtuple": Case(ETHICS, ALL, both(
        extra("import collections\nDecision = collections.namedtuple('Decision', 'decision terms')",
              after="decide-instruction"),
        returns("decide-instruction", "Decision(", ")")), 25, "", "", "10"),
    "custom-exception-subclass": Case(ETHICS, ALL, both(
        extra("class CaseError(ValueError):\n    pass", after=None),
        replace("decide-instruction", 'raise ValueError(f"unknown field', 'raise CaseError(f"unknown field')), 25,
        "", "", "10"),
    "returns-a-module": Case(KPIS, ALL, replace("attention", "return flagged", "return pd"), 28,
                             "returned a module", "cannot check", "10"),
    "returns-numpy-floats": Case(KPIS, ALL, replace("csat", "return float(100 * (answered >= 4).sum() / len(answered))",
                                                    "return __import__('numpy').float64(100 * (answered >= 4).sum() "
                                                    "/ len(answered))"), 31, "", "", "10"),
    "renamed-notebook": Case(FEE, ALL, None, 36, "submitted as", "submitted as", "also",
                             renamed_to="Fee proposals - Zoë (final).ipynb"),
    "blank-release": Case(KPIS, [], None, 0, "csat() is still to write", "csat() is still to write", "also"),
    # ---- the grader's helper in the kernel: a fault there costs only its part (found by last session's review)
    "deletes-the-helper": Case(FEE, ALL, extra(DELETE_HELPER, after="cost-lines"), 36, "installed again",
                               "installed again", "8"),
    "reset-in-last-answer": Case(FEE, ALL, extra("%reset -f", after="staged-invoices"), 31,
                                 "installed again", "staged_invoices is not defined", "8"),
    "tampers-helper-reply": Case(FEE, ALL, extra(TAMPER_REPLY, after="rate-build-up"), 36, "installed again",
                                 "installed again", "8"),
    "crafted-replies": Case(PRIVACY, ALL, extra(CRAFTED_REPLIES, after="scrub"), 8,
                            "broke the grader's link", "broke the grader's link", "8", most_seconds=BUDGET + 60),
    "source-not-text": Case(ETHICS, ALL, None, 25, "was not text", "was not text", "10", raw=source_not_text),
    "forges-grader-notes": Case(FEE, [], forge_notes, 0, "still to write", "still to write", "also",
                                absent=(FORGED_NOTE,)),
    "forges-log-note": Case(FEE, ALL, extra(LOG_FORGERY, after="cost-lines"), 36, "recursed too deeply", "", "also"),
    "writes-to-grader-output": Case(KPIS, ALL, extra(WRITES_TO_GRADER, after="csat"), 31, "", "", "also"),
    # about 32 test cells at 5 s each: 160 s when the helper's calls were not charged
    "slow-helper-calls": Case(FEE, ALL, extra(SLOW_HELPER, after="rate-build-up"), (0, 21), "time budget",
                              "time budget", "9", most_seconds=BUDGET + 60),
    "kills-every-process": Case(ETHICS, ALL, extra(KILL_EVERYTHING, after="decide-instruction"), 25, "", "", "5"),
    "fork-exec-escape": Case(PRIVACY, ALL, extra(FORK_EXEC, after="minimise"), 28, "", "", "5"),
    "fork-flood": Case(KPIS, ALL, extra(FORK_FLOOD, after="csat"), 31, "", "", "9"),
    # ---- hidden test inputs never reach feedback, however the learner's code passes them on
    "hidden-inputs-in-notes": Case(FEE, ALL, in_body("staged-invoices", LEAK_IN_NOTES), 31, "recursed too deeply",
                                   "a hidden check failed", "6", absent=HIDDEN_STAGED),
    "hidden-inputs-reversed": Case(FEE, ALL, both(extra("_seen = []", after="scope-options"),
                                                  in_body("staged-invoices", ECHO_REVERSED)), 34, "",
                                   "[hidden test input]", "6", absent=("4567.89", "98.7654", "tratS")),

    # ---- new kinds (third session): careless saving, careless copying, careless code, the trusted side's state
    # saved by an editor that writes a byte order mark (Windows Notepad) or UTF-16 (PowerShell's `>`)
    "saved-with-bom": Case(FEE, ALL, None, 36, "byte order mark", "byte order mark", "10",
                           encode=lambda text: b"\xef\xbb\xbf" + text.encode("utf-8")),
    "saved-as-utf16": Case(KPIS, ALL, None, 31, "UTF-16", "UTF-16", "10", encode=lambda text: text.encode("utf-16")),
    # a comment typed in Latin-1 (an old editor): two bytes that are not UTF-8, the rest of the file is
    "latin1-comment": Case(PRIVACY, ALL, replace("minimise", "def minimise", "# Zo\u00eb's answer, caf\u00e9 style\ndef minimise"),
                           28, "not UTF-8", "not UTF-8", "10",
                           encode=lambda text: text.encode("utf-8").replace("Zo\u00eb".encode(), "Zo\u00eb".encode("latin-1"))
                           .replace("caf\u00e9".encode(), "caf\u00e9".encode("latin-1"))),
    # a JSON escape of half a character (a buggy tool): valid JSON, but not text nbformat can write back
    "lone-surrogate-in-json": Case(ETHICS, ALL, replace("decide-instruction", "def decide_instruction",
                                                        "# note \udc80 to self\ndef decide_instruction"),
                                   25, "half of a character", "half of a character", "10", raw=lambda data: data),
    # the learner pasted their code into a new notebook: every cell's nbgrader metadata is gone
    "copied-into-new-notebook": Case(FEE, ALL, lambda nb: _strip_cell_metadata(nb), 36, "metadata", "metadata", "10"),
    # nbgrader submit copies the whole folder: the work is in a copy, beside an empty scratch notebook
    "work-in-a-copy-beside-scratch": Case(ETHICS, ALL, None, 25, "submitted as", "submitted as", "10",
                                          renamed_to="ethical-dilemmas-Copy1.ipynb",
                                          files={"Untitled.ipynb": nbformat.writes(nbformat.v4.new_notebook())}),
    # a validation that modifies the course's own table in place: only the test that checks it loses points
    "mutates-course-data": Case(FEE, ALL, in_body("validate-resourcing",
                                                  'if "hours" in resourcing.columns:\n'
                                                  '    resourcing["hours"] = resourcing["hours"].round()',
                                                  "validate_resourcing"), 35, "", "modified", "10"),
    # a helper module the learner's own code writes and imports (not a shipped file)
    "writes-own-module": Case(FEE, ALL, both(extra("%%writefile pence.py\ndef pence(x):\n    return round(x, 2)\n"),
                                             replace("rate-build-up", "def rate_build_up",
                                                     "from pence import pence\ndef rate_build_up")), 36, "", "", "10"),
    "input-left-in": Case(PRIVACY, ALL, extra('name = input("Your name: ")', after="minimise"), 28, "", "", "10"),
    # reading one such reply can take longer than the budget on a loaded machine: the points depend on the load,
    # the time it takes does not
    "amplified-replies": Case(FEE, ALL, extra(AMPLIFIED_REPLIES, after="rate-build-up"), (0, 36), "installed again",
                              "installed again", "9", most_seconds=BUDGET + 60),
    # a written answer that made rendering quadratic: feedback for the whole assignment took minutes per such answer
    "markup-bomb-essay": Case(ETHICS, ALL, written("justify-safeguards", "[" * 20000 + "x" + "]" * 20000 + " "
                                                   + "*a " * 3000 + "b" + " a*" * 3000), 25, "", "", "6"),
    # saved by older Jupyters: nbformat 4.0 (no cell ids) and nbformat 3 (worksheets)
    "saved-as-nbformat-4.0": Case(PRIVACY, ALL, None, 28, "", "", "10", raw=lambda data: _nbformat_4_0(data)),
    "saved-as-nbformat-3": Case(KPIS, ALL, None, 31, "", "", "10",
                                raw=lambda data: nbformat.convert(nbformat.from_dict(data), 3)),
    # a function name typed with a Cyrillic letter (copied from a PDF): its tests fail, as in Jupyter, and the
    # message names the learner's own name
    "lookalike-function-name": Case(FEE, ALL, replace("staged-invoices", "def staged_invoices(",
                                                      "def staged_invoi\u0441es("), 31,
                                    "another alphabet", "another alphabet", "10"),
    # half a character printed, and returned: only what cannot be sent fails
    "surrogate-in-output": Case(KPIS, ALL, extra('print("caf\\udce9")', after="csat"), 31, "", "", "8"),
    "surrogate-in-result": Case(FEE, ALL, replace("scope-options", '"option": chr(ord("A") + step)',
                                                  '"option": chr(ord("A") + step) + "\\udc80"'), 27,
                                "half of a character", "half of a character", "8"),
}


def _strip_cell_metadata(nb):
    for cell in nb.cells:
        cell.metadata = {}
    return nb


def _nbformat_4_0(data):
    data["nbformat_minor"] = 0
    for cell in data["cells"]:
        cell.pop("id", None)
    return data
