"""JudgedExecute: learner cells run in the learner's kernel, test cells in the grader, faults cost their part.

Each test grades one tiny notebook in a real (plain python3) kernel.
"""
import time

import nbformat
import pytest
from jupyter_client.manager import KernelManager

from clientcare.instructor.preprocessors import JudgedExecute
from clientcare.instructor.preprocessors._kernel import LearnerKernel
from clientcare.instructor.preprocessors.notes import notes_of
from tiny import by_id, cell, notebook, scores, shown

SETUP = """
import pandas as pd
RATE = 2
ROLES = {"vendor": {"name"}}
TABLE = pd.DataFrame({"hours": [1.0, 2.5]})
def helper(value):
    return value * RATE
"""

FORGERIES = """
import sys, threading, builtins
ip = get_ipython()
# an execute_result after every cell, and a "forgiving" hook, as if the tests had passed with 1 point
ip.events.register("post_run_cell", lambda result: ip.display_pub.publish({"text/plain": "1"}))
ip.events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
# an input transformer that turns every assertion into `pass`
ip.input_transformers_cleanup.append(lambda lines: [("pass\\n" if "assert" in l else l) for l in lines])
# rebinding the setup's names: through a frame, a thread, settrace and setprofile
sys._getframe().f_globals["RATE"] = 0
def rebind():
    import time
    for _ in range(2000):
        globals()["RATE"] = 0
        time.sleep(0.001)
threading.Thread(target=rebind, daemon=True).start()
sys.settrace(lambda frame, event, arg: frame.f_globals.__setitem__("RATE", 0))
sys.setprofile(lambda frame, event, arg: None)
builtins.AssertionError = type("Quiet", (Exception,), {})
print("debugging output", file=sys.stderr)
"""


def judge(nb, tmp_path, **traits) -> nbformat.NotebookNode:
    (tmp_path / "work").mkdir(exist_ok=True)
    traits.setdefault("kernel_name", "python3")
    traits.setdefault("trusted_directory", str(tmp_path / "none"))
    JudgedExecute(**traits).preprocess(nb, {"nbgrader": {"assignment": "a"}, "metadata": {"path": str(tmp_path / "work")}})
    return nb


def test_verdicts_are_made_outside_the_kernel_and_cannot_be_forged(tmp_path):
    nb = notebook(
        cell("setup", SETUP, "setup"),
        cell("answer", "def scaled(v):\n    import sys\n    print('working', file=sys.stderr)\n    return v * 2",
             "scaled"),
        cell("extra", FORGERIES),
        cell("test", "assert scaled(3) == 6\nassert helper(1) == 2 and RATE == 2", "t-correct"),
        cell("test", "assert scaled(3) == 7, 'scaled(3) should be 7'", "t-wrong"),
        cell("answer", "def triple(v):\n    raise NotImplementedError()", "triple"),
        cell("test", "assert triple(1) == 3", "t-blank"),
        cell("answer", "def add_column(df):\n    df['cost'] = df['hours'] * 2\n    return df", "add"),
        cell("test", "_before = TABLE.copy()\nadd_column(TABLE)\npd.testing.assert_frame_equal(TABLE, _before)",
             "t-mutates"),
        cell("answer", "def allowed(role, field):\n    return field in ROLES[role]", "allowed"),
        cell("test", "ROLES['printer'] = {'name', 'session'}\nassert allowed('printer', 'session') is True", "t-roles"),
        cell("answer", "class Fake:\n    def __eq__(self, other): return True\ndef fake():\n    return Fake()",
             "fake"),
        cell("test", "assert fake() == 6", "t-fake"),
        cell("test", "assert missing_function() == 1", "t-missing"),
        cell("answer", "def picky(v):\n    if v < 0:\n        raise ValueError(f'v must not be negative, got {v}')\n"
                       "    return v", "picky"),
        cell("test", "try:\n    picky(-1)\nexcept ValueError as e:\n    assert 'negative' in str(e)\n"
                     "else:\n    raise AssertionError('no ValueError')\nprint('picky: visible tests passed')", "t-raises"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-correct": 1, "t-wrong": 0, "t-blank": 0, "t-mutates": 0, "t-roles": 1, "t-fake": 0,
                          "t-missing": 0, "t-raises": 1}
    for grade_id in scores(nb):  # only the grader writes test outputs: no execute_result, no stderr
        assert {o.output_type for o in by_id(nb, grade_id).outputs} <= {"stream", "error"}
        assert all(o.get("name", "stdout") == "stdout" for o in by_id(nb, grade_id).outputs)
    assert "scaled(3) should be 7" in shown(nb, "t-wrong")
    assert "triple() is still to write" in shown(nb, "t-blank")
    assert "returned a Fake, which the tests cannot check" in shown(nb, "t-fake")
    assert "missing_function is not defined by your answers" in shown(nb, "t-missing")
    assert shown(nb, "t-raises").strip() == "picky: visible tests passed"
    notes = " ".join(notes_of(nb))
    assert "triple() is still to write" in notes and "printed" in notes
    assert "_clientcare" not in nbformat.writes(nb).split('"metadata"')[0]  # no marker lines in any cell


def test_a_failed_hidden_check_shows_its_checks_line_never_its_inputs(tmp_path):
    hidden = ("### BEGIN HIDDEN TESTS\nassert half(-42) == -21, f'half(-42) should be -21, got {half(-42)}'\n"
              "### END HIDDEN TESTS")
    nb = notebook(
        cell("answer", "def half(v):\n    return abs(v) / 2", "half"),
        cell("test", f"# Checks: halving works for negative amounts too\nassert half(8) == 4\n{hidden}", "t-checks"),
        cell("test", f"assert half(8) == 4\n{hidden}", "t-generic"),
        # a function that keeps what hidden tests give it, to show it later in a visible failure
        cell("answer", "_seen = []\ndef echo(v):\n    _seen.append(v)\n    raise ValueError(f'seen so far: {_seen}')",
             "echo"),
        cell("test", "### BEGIN HIDDEN TESTS\ntry:\n    echo('Zanzibar-7781')\nexcept ValueError:\n    pass\n"
                     "### END HIDDEN TESTS", "t-hidden-call"),
        cell("extra", "print(_seen)"),
        cell("test", "echo('visible')", "t-visible-call"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-checks": 0, "t-generic": 0, "t-hidden-call": 1, "t-visible-call": 0}
    assert "ValueError: seen so far: ['[hidden test input]', 'visible']" in shown(nb, "t-visible-call")
    assert not any("Zanzibar" in str(c.get("outputs", "")) for c in nb.cells)
    assert "a hidden check failed: halving works for negative amounts too" in shown(nb, "t-checks")
    assert "a hidden check of 't-generic' failed" in shown(nb, "t-generic")
    for grade_id in ("t-checks", "t-generic"):
        assert "42" not in shown(nb, grade_id) and "21" not in shown(nb, grade_id)
        assert "should be -21" in by_id(nb, grade_id).metadata["clientcare"]["failure"]["evalue"]  # for the instructor



def test_what_hidden_tests_add_to_the_setup_values_is_never_shown(tmp_path):
    """A hidden test that changes a setup value in place (not passing it to a learner function) sends the kernel
    a hidden input all the same: a later learner cell printing the value shows it redacted (found by an
    adversarial review)."""
    nb = notebook(
        cell("setup", "ROLES = {'vendor': ['name']}", "setup"),
        cell("answer", "def allowed(role, field):\n    return field in ROLES[role]", "allowed"),
        cell("test", "assert allowed('vendor', 'name')\n### BEGIN HIDDEN TESTS\nROLES['zebrarole'] = ['quokkafield']\n"
                     "assert allowed('vendor', 'name')\n### END HIDDEN TESTS", "t-hidden"),
        cell("test", "assert allowed('vendor', 'name')", "t-after"),
        cell("extra", "print(ROLES)"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-hidden": 1, "t-after": 1}
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "'vendor': ['name']" in printed and "[hidden test input]" in printed, printed
    assert not any(word in str(c.get("outputs", "")) for c in nb.cells for word in ("zebrarole", "quokkafield"))

    # and what a hidden test changes only while it calls a learner function, which keeps it for later
    nb = notebook(
        cell("setup", "ROLES = {'vendor': ['name']}", "setup"),
        cell("answer", "_kept = []\ndef allowed(role, field):\n    _kept.append(dict(ROLES))\n"
                       "    return field in ROLES[role]", "allowed"),
        cell("test", "### BEGIN HIDDEN TESTS\nROLES['zebrarole'] = ['quokkafield']\nassert allowed('vendor', 'name')\n"
                     "del ROLES['zebrarole']\n### END HIDDEN TESTS", "t-hidden"),
        cell("extra", "print(_kept)"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-hidden": 1}
    assert not any(word in str(c.get("outputs", "")) for c in nb.cells for word in ("zebrarole", "quokkafield"))

def test_a_dead_kernel_costs_only_the_part_it_died_in(tmp_path):
    nb = notebook(
        cell("setup", "BASE = 10", "setup"),
        cell("answer", "def crash():\n    import os\n    os._exit(3)\ndef fine():\n    return BASE + 1", "funcs"),
        cell("test", "assert fine() == 11", "t-before"),
        cell("test", "crash()", "t-crash"),
        cell("test", "assert fine() == 11", "t-after"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-before": 1, "t-crash": 0, "t-after": 1}
    assert "DeadKernelError" in shown(nb, "t-crash")
    assert any("'t-crash'" in n and "kernel died" in n and "a new kernel was started" in n for n in notes_of(nb))



def test_an_interpreter_that_reports_itself_broken_is_replaced_and_costs_only_that_part(tmp_path):
    """CPython raises SystemError when it is left in a state it cannot vouch for (in the sandbox: endless
    recursion under a raised recursion limit that runs into the memory limit). No later part is graded by it:
    here the break leaves a mark in the interpreter that a later part would otherwise see. A learner's own cell
    that raises it is only noted: what the cell defined before it is still there for its tests."""
    nb = notebook(
        cell("answer", "import builtins\ndef breaks():\n    builtins.POISONED = True\n"
                       "    raise SystemError('error return without exception set')\n"
                       "def clean():\n    import builtins\n    return not hasattr(builtins, 'POISONED')", "funcs"),
        cell("test", "assert clean()", "t-before"),
        cell("test", "breaks()", "t-broken"),
        cell("test", "assert clean()", "t-after-call"),
        cell("answer", "def later():\n    return 2\nraise SystemError('bad argument to internal function')", "later"),
        cell("test", "assert later() == 2", "t-after-cell"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-before": 1, "t-broken": 0, "t-after-call": 1, "t-after-cell": 1}, notes_of(nb)
    assert "SystemError" in shown(nb, "t-broken")
    assert "breaks() broke the Python interpreter" in shown(nb, "t-broken")
    assert "error return without exception set" in shown(nb, "t-broken")
    notes = notes_of(nb)
    assert any(n.startswith("'t-broken' left the Python interpreter running it broken (it raised SystemError)")
               and "a new kernel was started" in n for n in notes), notes
    assert any(n.startswith("'later' broke the Python interpreter") for n in notes), notes
    assert sum("a new kernel was started" in n for n in notes) == 1, notes


class SlowSetUp(KernelManager):
    """Every start spends 3 s on the grader's own set-up first, as starting a new warm sandbox does."""

    def start_kernel(self, **kw):
        time.sleep(3)
        self.sandbox_seconds = 3.0
        return super().start_kernel(**kw)


def test_a_replacement_kernel_charges_the_budget_for_its_start_not_for_the_graders_set_up(tmp_path):
    """The learner's budget pays for their replacement kernel's start, not for a new warm sandbox under it
    (the grader's choice): with a 2.5 s budget, 3 s of set-up charged used to leave the last part ungraded."""
    nb = notebook(
        cell("answer", "def crash():\n    import os\n    os._exit(3)\ndef fine():\n    return 11", "funcs"),
        cell("test", "crash()", "t-crash"),
        cell("test", "assert fine() == 11", "t-after"),
    )
    judge(nb, tmp_path, kernel_manager_class=SlowSetUp, notebook_budget=2.5)
    assert scores(nb) == {"t-crash": 0, "t-after": 1}, notes_of(nb)
    assert not any("time budget" in n for n in notes_of(nb))


def test_stuck_calls_are_stopped_and_the_budget_is_a_hard_cap(tmp_path):
    nb = notebook(
        cell("answer", "def stuck():\n    while True:\n        pass\ndef deaf():\n    import signal\n"
                       "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass\n"
                       "def quick():\n    return 1", "funcs"),
        cell("test", "stuck()", "t-stuck"),
        cell("test", "assert quick() == 1", "t-quick"),
        cell("test", "deaf()", "t-deaf"),
        cell("test", "assert quick() == 1", "t-quick-again"),
        cell("test", "assert quick() == 1", "t-after-budget"),
    )
    judge(nb, tmp_path, timeout=2, notebook_budget=4.5, interrupt_grace=1)
    assert scores(nb) == {"t-stuck": 0, "t-quick": 1, "t-deaf": 0, "t-quick-again": 0, "t-after-budget": 0}
    assert "ran past its time limit" in shown(nb, "t-stuck")
    assert "not run: the notebook used its whole time budget (4.5 s)" in shown(nb, "t-after-budget")
    assert any("used its whole time budget" in n for n in notes_of(nb))


def test_a_kernel_that_dies_while_starting_is_replaced(monkeypatch):
    """Several graders starting kernels at once occasionally lose one before it runs anything."""
    attempts = []

    def flaky(self):
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(LearnerKernel, "_start_once", flaky)
    kernel = LearnerKernel(None, "python3", ".", {}, [], 5, 1, 1000, 1000, 1000, pytest.importorskip("logging"))
    kernel.log = __import__("logging").getLogger("test")
    kernel.start(3)
    assert len(attempts) == 3
    attempts.clear()
    with pytest.raises(RuntimeError, match="could not be started"):
        kernel.start(2)
    assert len(attempts) == 2


def test_breaking_the_graders_helper_costs_nothing_and_is_noted(tmp_path):
    """``del``, a tampered reply or ``%reset -f``: the helper is installed again and grading goes on."""
    nb = notebook(
        cell("answer", "def double(v):\n    return 2 * v", "double"),
        cell("extra", "del __clientcare__"),
        cell("test", "assert double(2) == 4", "t-after-del"),
        cell("extra", "__clientcare__._answer = lambda value: setattr(__clientcare__, 'reply', 'forged')"),
        cell("test", "assert double(3) == 6", "t-after-tamper"),
        cell("answer", "def triple(v):\n    return 3 * v", "triple"),
        cell("extra", "%reset -f"),
        cell("test", "assert triple(1) == 3", "t-after-reset"),
        cell("test", "assert 1 + 1 == 2", "t-plain"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-after-del": 1, "t-after-tamper": 1, "t-after-reset": 0, "t-plain": 1}
    assert "triple is not defined by your answers" in shown(nb, "t-after-reset")  # %reset -f removed it
    assert any("'t-after-del'" in n and "installed again" in n for n in notes_of(nb))


def test_a_fault_of_the_graders_own_costs_only_that_part(tmp_path, monkeypatch):
    from clientcare.instructor.preprocessors import _trusted

    real = _trusted.referenced_names
    monkeypatch.setattr(_trusted, "referenced_names",
                        lambda source: (_ for _ in ()).throw(RecursionError("deep")) if "odd" in source else real(source))
    nb = notebook(
        cell("answer", "def one():\n    return 1", "one"),
        cell("test", "assert one() == 1  # odd", "t-odd"),
        cell("test", "assert one() == 1", "t-fine"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-odd": 0, "t-fine": 1}
    assert any("'t-odd'" in n for n in notes_of(nb))


def test_every_round_trip_is_charged_to_the_budget(tmp_path):
    """Learner code that slows the grader's own calls (98 s against a 60 s budget before) hits the cap."""
    slow = ("import time\n_begin = type(__clientcare__).begin_test\n"
            "type(__clientcare__).begin_test = lambda self, text: (time.sleep(1), _begin(self, text))[1]")
    nb = notebook(cell("answer", "def one():\n    return 1", "one"), cell("extra", slow),
                  *[cell("test", f"assert one() == 1  # {n}", f"t-{n}") for n in range(8)])
    started = time.monotonic()
    judge(nb, tmp_path, notebook_budget=3.0)
    assert time.monotonic() - started < 3.0 + 8  # the kernel's start and the setup are not charged
    assert 0 < sum(scores(nb).values()) <= 3
    assert any("used its whole time budget" in n for n in notes_of(nb))


@pytest.mark.parametrize("noop", [
    *[f"type(__clientcare__).{method} = lambda self, *a: None" for method in ("begin_test", "end_test", "call")],
    # an answer in the helper's own form that leaves out what the test needs to know
    "type(__clientcare__).begin_test = lambda self, text: self._answer({'status': 'ok', 'changed': []})",
], ids=["begin_test", "end_test", "call", "begin_test-without-names"])
def test_a_helper_method_replaced_by_a_no_op_gets_no_stale_answer(tmp_path, noop):
    """A no-op in place of the helper's method leaves the last answer in place: the grader must not read that
    one as the new one (a no-op begin_test used to be read as "none of your functions exist", and a no-op
    call as the answer of the call before), nor an answer without the names a test needs. The helper is
    installed again and the tests are fair."""
    nb = notebook(cell("answer", "def one():\n    return 1", "one"),
                  cell("answer", "def two():\n    return 2", "two"),
                  cell("extra", noop),
                  cell("test", "assert one() == 1", "t-one"),
                  cell("test", "assert two() == 2\nassert one() == 1", "t-two"),
                  cell("extra", noop),
                  cell("test", "assert two() == 2", "t-again"))
    judge(nb, tmp_path)
    assert scores(nb) == {"t-one": 1, "t-two": 1, "t-again": 1}
    assert any("installed again" in n for n in notes_of(nb)), notes_of(nb)


def test_notes_are_one_line_and_never_repeat_what_hidden_tests_gave(tmp_path, capfd):
    nb = notebook(
        cell("answer", "def check(v):\n    if v == 'Qwerty-Street':\n"
                       "        raise RecursionError('given ' + v + '\\n[clientcare] full marks')\n    return v", "check"),
        cell("extra", "import os\nos.write(1, b'to the grader stdout\\n')\nos.write(2, b'to the grader stderr\\n')\n"
                      "raise RecursionError('own\\n[clientcare] forged note')"),
        cell("test", "# Checks: odd street names\nassert check('x') == 'x'\nprint('result', check('x'))\n"
                     "### BEGIN HIDDEN TESTS\nassert check('Qwerty-Street') == 'Qwerty-Street'\n"
                     "### END HIDDEN TESTS", "t-check"),
    )
    judge(nb, tmp_path)
    captured = capfd.readouterr()
    assert "to the grader" not in captured.out + captured.err
    assert scores(nb) == {"t-check": 0}
    assert "a hidden check failed: odd street names" in shown(nb, "t-check")
    assert "result x" not in shown(nb, "t-check")  # a failed hidden check shows its Checks line only
    assert all("\n" not in n for n in notes_of(nb))
    assert not any(n.startswith("[clientcare]") for n in notes_of(nb))
    assert not any("Qwerty" in n for n in notes_of(nb))
    assert not any("Qwerty" in str(c.get("outputs", "")) for c in nb.cells)



def test_hidden_inputs_passed_through_a_helper_the_visible_lines_define_are_never_shown(tmp_path):
    """A test's visible lines may define a helper that its hidden lines call with hidden inputs: the call is
    hidden although the line that makes it is visible (an adversarial review found the note repeating them)."""
    nb = notebook(
        cell("answer", "def check(v):\n    raise RecursionError(f'check got {v}')", "check"),
        cell("test", "def _expect(v):\n    assert check(v) == v\n"
                     "### BEGIN HIDDEN TESTS\n_expect('Walrus-Hidden-77')\n### END HIDDEN TESTS", "t-helper"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-helper": 0}
    assert any("'t-helper': check() recursed too deeply" in n for n in notes_of(nb)), notes_of(nb)
    assert not any("Walrus" in n for n in notes_of(nb)), notes_of(nb)
    assert not any("Walrus" in str(c.get("outputs", "")) for c in nb.cells)

def test_a_cell_whose_source_is_not_text_is_graded_as_empty(tmp_path):
    nb = notebook(cell("answer", "def one():\n    return 1", "one"), cell("extra", "x = 1"),
                  cell("test", "assert one() == 1", "t-one"))
    nb.cells[1]["source"] = 42
    judge(nb, tmp_path)
    assert scores(nb) == {"t-one": 1}


def test_course_data_a_learner_function_modified_is_put_back_before_the_next_test(tmp_path):
    # A function that changes the course's table it is given (rounds the hours in place) fails the test that
    # checks it must not; later tests, which pass the same table, are judged on the course's own data.
    nb = notebook(
        cell("setup", SETUP, "setup"),
        cell("answer", "def check(df):\n    df['hours'] = df['hours'].round()\n    return df", "check"),
        cell("test", "_before = TABLE.copy()\ncheck(TABLE)\npd.testing.assert_frame_equal(TABLE, _before)", "t-check"),
        cell("answer", "def total(df):\n    return float(df['hours'].sum())", "total"),
        cell("test", "assert total(TABLE) == 3.5, f'total should be 3.5, got {total(TABLE)}'", "t-total"),
        cell("test", "assert list(TABLE['hours']) == [1.0, 2.5]\nassert total(TABLE.copy()) == 3.5", "t-again"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-check": 0, "t-total": 1, "t-again": 1}
    assert any("check() modified the course's TABLE" in note and "put back" in note for note in notes_of(nb))


def test_a_module_the_learners_own_code_writes_can_be_imported_after_the_setup(tmp_path):
    # The sandbox starts Python isolated (no working folder on sys.path: the setup below makes this kernel so).
    # A module written by the learner's own cell is imported as in Jupyter; one named like a library is not
    # used in its place.
    isolated = "import os, sys\nsys.path[:] = [p for p in sys.path if p not in ('', '.', os.getcwd())]\nimport json"
    nb = notebook(
        cell("setup", isolated, "setup"),
        cell("extra", "%%writefile pence.py\ndef pence(x):\n    return round(x, 2)\n"),
        cell("extra", "%%writefile json.py\nraise SystemExit('not the real json')\n"),
        cell("answer", "from pence import pence\nimport json\ndef price(v):\n    return pence(v * 1.2)\n"
                       "def dumped():\n    return json.dumps([1])", "price"),
        cell("test", "assert price(10) == 12.0\nassert dumped() == '[1]'", "t-price"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-price": 1}


def test_replies_that_take_long_to_read_are_charged_and_a_reply_of_the_wrong_shape_reinstalls_the_helper(
        tmp_path, monkeypatch):
    """A helper changed to answer every request with one large precomputed reply (made in no time, slow to read):
    the grader takes it for a broken helper and installs it again (as for any other tampered reply), and the
    time spent reading replies is charged to the notebook's budget, so such replies cannot outlast it."""
    amplify = ("import base64, json\n"
               "_big = base64.b64encode(json.dumps([{'$tuple': []}] * 300_000).encode()).decode()\n"
               "type(__clientcare__)._answer = lambda self, value: setattr(self, 'reply', _big)")
    nb = notebook(cell("answer", "def one():\n    return 1", "one"), cell("extra", amplify),
                  cell("test", "assert one() == 1", "t-after"))
    judge(nb, tmp_path)
    assert scores(nb) == {"t-after": 1}
    assert any("'t-after'" in n and "installed again" in n for n in notes_of(nb))

    read = []
    real = LearnerKernel._answer
    def slow_to_read(run):
        time.sleep(0.5)
        read.append(1)
        return real(run)
    nb = notebook(cell("answer", "def one():\n    return 1", "one"),
                  *[cell("test", f"assert one() == 1  # {n}", f"t-{n}") for n in range(8)])
    monkeypatch.setattr(LearnerKernel, "_answer", staticmethod(slow_to_read))
    judge(nb, tmp_path, notebook_budget=3.0)
    assert sum(scores(nb).values()) < 8 and len(read) < 8 * 4  # each test reads 4 replies: the budget stopped it
    assert any("used its whole time budget" in n for n in notes_of(nb))


def test_a_name_that_only_looks_like_the_one_the_tests_call_is_named_to_the_learner(tmp_path):
    # 'сsat' with a Cyrillic 'с' (text copied from a PDF), 'Nps' in another case: not the names the tests call,
    # so their tests fail (as in Jupyter), and the message says which of the learner's names it was
    nb = notebook(
        cell("answer", "def \u0441sat(v):\n    return v\ndef Nps(v):\n    return v", "kpis"),
        cell("test", "assert csat(1) == 1", "t-csat"),
        cell("test", "assert nps(1) == 1", "t-nps"),
        cell("test", "assert missing(1) == 1", "t-missing"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-csat": 0, "t-nps": 0, "t-missing": 0}
    assert "they define '\u0441sat'" in shown(nb, "t-csat") and "another alphabet" in shown(nb, "t-csat")
    assert "they define 'Nps'" in shown(nb, "t-nps") and "case" in shown(nb, "t-nps")
    assert "missing is not defined by your answers (write it" in shown(nb, "t-missing")


def test_a_plotting_function_starts_each_call_on_a_new_figure_as_in_jupyter(tmp_path):
    """With ``%matplotlib inline`` a figure is closed after each cell, and after each of the grader's requests
    (its ``post_execute`` hook), so a function that plots on the current figure counts only its own lines."""
    nb = notebook(
        cell("extra", "%matplotlib inline"),
        cell("answer", "import matplotlib.pyplot as plt\ndef chart(values):\n    plt.plot(values)\n"
                       "    return len(plt.gca().lines)", "chart"),
        cell("test", "assert chart([1, 2]) == 1", "t-first"),
        cell("test", "assert chart([3, 4]) == 1\nassert chart([5, 6]) == 1", "t-again"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-first": 1, "t-again": 1}, [shown(nb, g) for g in scores(nb)]


def test_a_helper_method_replaced_to_raise_system_exit_is_installed_again_and_the_kernel_lives(tmp_path):
    nb = notebook(
        cell("answer", "def one():\n    return 1", "one"),
        cell("extra", "def _leave(self, text):\n    raise SystemExit(0)\ntype(__clientcare__).call = _leave"),
        cell("test", "assert one() == 1", "t-one"),
        cell("test", "assert one() + one() == 2", "t-two"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-one": 1, "t-two": 1}
    assert any("'t-one'" in n and "installed again" in n for n in notes_of(nb))
    assert not any("kernel died" in n for n in notes_of(nb))


def test_each_test_gets_the_setup_values_as_the_course_made_them(tmp_path):
    """A learner function that changes a setup value in place (not an argument) spoils it for no later test:
    the kernel keeps the values it was sent and every test gets a fresh copy of them."""
    nb = notebook(
        cell("setup", "import pandas as pd\nRATES = {'surveyor': 95}\nTABLE = pd.DataFrame({'hours': [1.0, 2.5]})",
             "setup"),
        cell("answer", "def spoil():\n    RATES['surveyor'] = 0\n    TABLE.loc[0, 'hours'] = -1.0\n    return True\n"
                       "def rate():\n    return RATES['surveyor']\ndef first_hours():\n    return TABLE.loc[0, 'hours']",
             "funcs"),
        cell("test", "assert spoil()", "t-spoil"),
        cell("test", "assert rate() == 95\nassert first_hours() == 1.0", "t-fresh"),
        cell("extra", "RATES['surveyor'] = 1"),
        cell("test", "assert rate() == 95", "t-fresh-after-a-cell"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-spoil": 1, "t-fresh": 1, "t-fresh-after-a-cell": 1}, [shown(nb, g) for g in scores(nb)]


def test_setup_tables_holding_lists_or_dicts_are_fresh_for_every_test(tmp_path):
    """A data frame's copy shares the lists and dicts in its cells: a change a learner function makes to them
    reaches no later test either (found by an adversarial review of the cached setup values)."""
    nb = notebook(
        cell("setup", "import pandas as pd\nJOBS = pd.DataFrame({'client': ['a', 'b'], "
                      "'extras': [{'travel': 10}, {'travel': 0}], 'tags': [['x'], []]})\n"
                      "HOLIDAYS = pd.DatetimeIndex(['2026-12-25', '2026-12-28'])\n"
                      "NESTED = [{'jobs': pd.DataFrame({'tags': [['y']]})}]", "setup"),
        cell("answer", "def with_fee(fee):\n    jobs = JOBS.copy()\n    for extras in jobs['extras']:\n"
                       "        extras['fee'] = extras.get('fee', 0) + fee\n    JOBS['tags'][0].append('seen')\n"
                       "    return [sum(e.values()) for e in jobs['extras']]\n"
                       "def tags():\n    return [len(t) for t in JOBS['tags']]\n"
                       "def spoil_nested():\n    NESTED[0]['jobs']['tags'][0].append('z')\n    return len(HOLIDAYS)\n"
                       "def nested():\n    return len(NESTED[0]['jobs']['tags'][0])", "fee"),
        cell("test", "assert with_fee(5) == [15, 5]", "t-first"),
        cell("test", "assert with_fee(1) == [11, 1]\n", "t-second"),
        cell("test", "assert tags() == [1, 0]", "t-tags"),
        cell("test", "assert spoil_nested() == 2", "t-spoil-nested"),
        cell("test", "assert nested() == 1", "t-nested"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-first": 1, "t-second": 1, "t-tags": 1, "t-spoil-nested": 1, "t-nested": 1}, \
        [shown(nb, g) for g in scores(nb)]


def test_a_helper_that_lost_its_setup_values_is_installed_again_and_sent_them(tmp_path):
    nb = notebook(
        cell("setup", "RATES = {'surveyor': 95}", "setup"),
        cell("answer", "def rate():\n    return RATES['surveyor']", "rate"),
        cell("test", "assert rate() == 95", "t-first"),
        cell("extra", "__clientcare__.setup.clear()\nRATES = {}"),
        cell("test", "assert rate() == 95", "t-second"),
    )
    judge(nb, tmp_path)
    assert scores(nb) == {"t-first": 1, "t-second": 1}
    assert any("'t-second'" in n and "installed again" in n for n in notes_of(nb))


def test_a_large_setup_table_crosses_to_the_kernel_once_not_before_every_test(tmp_path, monkeypatch):
    sent = []
    real = LearnerKernel.request

    def recorded(self, method, argument, deadline):
        sent.append((method, len(argument or "")))
        return real(self, method, argument, deadline)

    monkeypatch.setattr(LearnerKernel, "request", recorded)
    nb = notebook(
        cell("setup", "import pandas as pd\nBIG = pd.DataFrame({'n': range(20_000)})", "setup"),
        cell("answer", "def rows():\n    return len(BIG)", "rows"),
        *[cell("test", f"assert rows() == 20_000  # {n}", f"t-{n}") for n in range(4)],
    )
    judge(nb, tmp_path)
    assert set(scores(nb).values()) == {1}
    begins = [size for method, size in sent if method == "begin_test"]
    assert len(begins) == 4 and begins[0] > 100_000 and max(begins[1:]) < 1_000, begins
