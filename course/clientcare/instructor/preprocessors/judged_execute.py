"""``JudgedExecute``: nbgrader's Execute step, with the verdicts decided outside the learner's kernel.

In nbgrader's ``Autograde.autograde_preprocessors`` in place of ``Execute``. The
notebook's cells are run in order:

* setup cells (read-only code before the first answer) run in the learner's kernel
  AND in the grader's trusted namespace (with the course's own data files);
* answer cells, the learner's extra cells and other read-only code run in the
  learner's kernel (started by ``kernel_manager_class``: boundary-os's
  ``SandboxKernelManager`` plugs in here), in a scratch copy of the submission;
* autograded test cells run in the trusted namespace (``_trusted.py``), calling the
  learner's functions through plain-data proxies. Their outputs, the only thing
  nbgrader's ``SaveAutoGrades`` reads, are written here: what the test printed and,
  if it failed, one error line (for a failure inside the hidden tests, the cell's
  ``# Checks:`` line instead of its message).

Faults cost only their part: a cell or call that runs past its time limit is
interrupted; a kernel that dies, does not come back from an interrupt or floods
output is replaced, the setup and the cells that had run are run again, and grading
goes on; so is a kernel whose interpreter reported itself broken while a test called the
learner's code (a ``SystemError``, as CPython raises when deep recursion runs into the
sandbox's memory limit), so that no later part is graded by it. (A learner cell that raises
one is only noted: replacing its kernel would lose what the cell defined, and running it again
would break the new one.) The notebook's time budget is a real cap: once it is spent nothing more
runs and every part not yet graded scores 0. Notes for the learner and the instructor
go into the notebook's metadata (``clientcare.notes``) and the log.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import KernelManager
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer, List, Type, Unicode

from ._kernel import KernelFault, LearnerKernel
from ._trusted import (BudgetExhausted, LearnerError, NotPlainResult, RedactionTime, Redactor, Session, checks_line,
                       hidden_lines, run_test)
from .notes import LOG_PREFIX, add_notes, set_cell_note

KEPT_ASIDE = ".clientcare-originals"
DEFAULT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME", "TMPDIR", "MPLBACKEND", "OPENBLAS_NUM_THREADS",
               "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "CLIENTCARE_PROTECTED_PATHS",
               "CLIENTCARE_KERNEL_MEMORY_MB", "CLIENTCARE_KERNEL_FILE_MB", "SYSTEMROOT")
NOTABLE = {
    "GradingSandboxError": "tried something not allowed while grading",
    "PermissionError": "tried to reach something not allowed while grading",
    "MemoryError": "ran out of memory",
    "RecursionError": "recursed too deeply",
    "SystemExit": "tried to stop Python",
    "KeyboardInterrupt": "was interrupted",
    "SystemError": "broke the Python interpreter (an internal error, often from recursing far too deeply or "
                   "running out of memory)",
}
# a test's call of learner code that raised this leaves an interpreter that cannot be trusted to grade the
# later parts: its kernel is replaced
BROKEN_INTERPRETER = "SystemError"


# errors the grader itself writes into outputs (their text quotes nothing of the learner's)
GRADER_ERRORS = ("NotGraded", "CellFault", "GraderError", "CellTimeoutError", "DeadKernelError")


def is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _regular_files_only(folder: str, names: list[str]) -> list[str]:
    """copytree ignore: notebooks, set-aside originals, and anything that is not a regular file or folder."""
    skipped = []
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if name.endswith(".ipynb") or name == KEPT_ASIDE or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            skipped.append(name)
    return skipped


class Budget:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.spent = 0.0

    @property
    def left(self) -> float:
        return self.seconds - self.spent

    def charge(self, seconds: float) -> None:
        self.spent += seconds


class JudgedExecute(NbGraderPreprocessor):
    """Run learner cells in the learner's kernel and test cells in the grader (see the module docstring)."""

    kernel_manager_class = Type(KernelManager, klass=KernelManager, help=(
        "The jupyter_client KernelManager class that starts the learner's kernel "
        "(e.g. clientcare.instructor.sandbox.SandboxKernelManager)")).tag(config=True)
    kernel_name = Unicode("", help="Kernel spec to run learner code in; empty: the notebook's own").tag(config=True)
    timeout = Integer(30, help="Seconds a cell (or a test cell's calls together) may run").tag(config=True)
    startup_timeout = Integer(60, help="Seconds a kernel may take to start").tag(config=True)
    startup_attempts = Integer(3, help="Kernels to try when one dies before running any cell").tag(config=True)
    notebook_budget = Float(120.0, help="Seconds of learner code one notebook may run in all; then nothing more "
                                        "runs and the parts not yet graded score 0").tag(config=True)
    interrupt_grace = Float(2.0, help="Seconds a kernel has to come back from an interrupt before it is "
                                      "replaced").tag(config=True)
    max_replacements = Integer(10, help="Kernels replaced per notebook before the rest scores 0").tag(config=True)
    max_output_bytes = Integer(1_000_000, help="Output kept per learner cell").tag(config=True)
    flood_bytes = Integer(200_000_000, help="Output a cell may send before it counts as a flood and its "
                                           "kernel is replaced").tag(config=True)
    max_message_bytes = Integer(64 * 1024 * 1024, help="Largest single kernel message accepted").tag(config=True)
    extra_arguments = List(["--HistoryManager.hist_file=:memory:"], help="Extra kernel arguments").tag(config=True)
    env_allowlist = List(list(DEFAULT_ENV), help="Environment variables passed on to the learner's kernel "
                                                 "(nothing else is)").tag(config=True)
    protected_paths = List(Unicode(), help="Paths the sandboxed grading kernel may not reach "
                                           "(passed as CLIENTCARE_PROTECTED_PATHS)").tag(config=True)
    trusted_directory = Unicode("source", help="Folder holding <assignment>/ with the course's own data files, "
                                               "which the setup cells read on the trusted side").tag(config=True)

    # -- set-up

    def _environment(self, scratch: str) -> dict:
        env = {name: os.environ[name] for name in self.env_allowlist if name in os.environ}
        env.setdefault("MPLBACKEND", "Agg")
        env["IPYTHONDIR"] = os.path.join(scratch, ".ipython")  # no shared profile or startup files
        env["PYTHONNOUSERSITE"] = "1"
        if self.protected_paths:
            env["CLIENTCARE_PROTECTED_PATHS"] = os.pathsep.join(self.protected_paths)
        return env

    def _new_kernel(self, kernel_name: str, workdir: str, scratch: str) -> LearnerKernel:
        kernel = LearnerKernel(self.kernel_manager_class, kernel_name, workdir, self._environment(scratch),
                               self.extra_arguments, self.startup_timeout, self.interrupt_grace,
                               self.max_output_bytes, self.flood_bytes, self.max_message_bytes, self.log,
                               config=self.config)
        kernel.start(self.startup_attempts)
        return kernel

    def preprocess(self, nb: NotebookNode, resources: dict):
        os.environ.setdefault("MPLBACKEND", "Agg")  # the trusted side draws no windows (nor do kernels)
        info = resources.get("nbgrader", {})
        original = resources.get("metadata", {}).get("path") or os.getcwd()
        kernel_name = self.kernel_name or nb.metadata.get("kernelspec", {}).get("name", "python3")
        trusted = Path(self.trusted_directory) / info.get("assignment", "")
        scratch = tempfile.mkdtemp(prefix="clientcare-run-")
        try:
            workdir = os.path.join(scratch, "work")
            shutil.copytree(original, workdir, symlinks=True, ignore=_regular_files_only)
            run = _Run(self, nb, kernel_name, workdir, scratch, str(trusted if trusted.is_dir() else original))
            run.grade()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return nb, resources


class _Run:
    """Grading one notebook: the cells, the kernel, the trusted session, the notes."""

    def __init__(self, owner: JudgedExecute, nb, kernel_name: str, workdir: str, scratch: str, trusted: str):
        self.owner, self.nb, self.log = owner, nb, owner.log
        self.kernel_name, self.workdir, self.scratch, self.trusted = kernel_name, workdir, scratch, trusted
        self.budget = Budget(owner.notebook_budget)
        self.session = Session(owner.log)
        self.notes: list[str] = []
        self.ran: list[int] = []          # kernel cells that ran without a fault (re-run after a replacement)
        self.replacements = 0
        self.gave_up = ""                 # why nothing more runs
        self.budget_limited, self.limit = False, float(owner.timeout)
        self._visible: str | None = None
        self._redactor: tuple[frozenset, Redactor] | None = None
        self.redaction_time = RedactionTime()  # for every redactor of this notebook together
        self.test_open = False            # the learner's names that hide built-ins are set aside in the kernel for
                                          # a test: given back before the learner's next cell (the next test's
                                          # begin_test gives them back first itself)

    def note(self, text: str) -> None:
        # One line of printable text: learner-made text inside a note (an error message) can neither start a
        # line of its own in the log (a forged "[clientcare]" note) nor carry what hidden tests gave it.
        text = "".join(ch if ch.isprintable() else " " for ch in str(text))[:600]
        if text not in self.notes:
            self.notes.append(text)
            self.log.warning("%s %s", LOG_PREFIX, text)

    def theirs(self, text) -> str:
        """Text made by learner code, as a note may quote it: one printable line, hidden test inputs redacted."""
        text = "".join(ch if ch.isprintable() else " " for ch in str(text))
        return self.redactor()(text) if self.session.secrets else text

    def visible_text(self) -> str:
        """Everything of the notebook's sources a learner can read (the hidden tests' lines left out)."""
        if self._visible is None:  # the sources do not change while grading (``grade`` makes each a str first)
            self._visible = "\n".join("\n".join(line for number, line in enumerate(str(c.source).splitlines(), start=1)
                                                if number not in hidden_lines(str(c.source))) for c in self.nb.cells)
        return self._visible

    def redactor(self) -> Redactor:
        """What redacts hidden test inputs from learner-made text, for the inputs the hidden tests gave so far."""
        secrets = frozenset(self.session.secrets)
        if self._redactor is None or self._redactor[0] != secrets:
            self._redactor = (secrets, Redactor(secrets, self.visible_text(), self.redaction_time))
        return self._redactor[1]

    # -- cells

    def classify(self):
        setup, seen_answer = [], False
        for index, cell in enumerate(self.nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            if meta.get("solution"):
                seen_answer = True
            elif meta.get("locked") and not meta.get("grade") and not seen_answer:
                setup.append(index)
        return setup

    @staticmethod
    def where(cell, index: int) -> str:
        return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"

    def grade(self) -> None:
        for cell in self.nb.cells:
            if cell.cell_type == "code" and not isinstance(cell.source, str):
                cell.source = ""
        setup = self.classify()
        failure = self.session.run_setup([self.nb.cells[i].source for i in setup], self.trusted)
        if failure:
            self.note(f"the course's setup cell failed on the grader's side ({failure}); tests that need it fail")
        try:
            self.session.kernel = self.owner._new_kernel(self.kernel_name, self.workdir, self.scratch)
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type != "code":
                    continue
                cell.outputs, cell.execution_count = [], None
                try:
                    if is_test(cell):
                        self.test_cell(index, cell)
                    else:
                        self.kernel_cell(index, cell, charged=index not in setup)
                        if setup and index == setup[-1] and not self.gave_up:
                            self._ask("setup_done", None)
                except Exception as error:  # the grader's own trouble with one cell: that part only
                    self.log.exception("%s grading '%s' failed", LOG_PREFIX, self.where(cell, index))
                    self.grader_fault(index, cell, error)
        finally:
            if self.session.kernel is not None:
                self.session.kernel.shutdown()
        self.summarise()
        self.redact_outputs()
        add_notes(self.nb, self.notes)

    def grader_fault(self, index: int, cell, error: Exception) -> None:
        where = self.where(cell, index)
        cause = f"the grader could not grade '{where}' ({type(error).__name__}); that part scores 0"
        self.note(cause)
        cell.outputs = [output for output in cell.get("outputs", []) if output.get("output_type") != "error"]
        self.error(cell, "GraderError", cause)
        if is_test(cell):
            set_cell_note(cell, "failure", {"ename": "GraderError", "evalue": f"{type(error).__name__}: {error}"[:2000],
                                            "hidden": False})

    def redact_outputs(self) -> None:
        """No output anywhere in the notebook repeats what hidden tests gave the learner's functions."""
        if not self.session.secrets:
            return
        redact = self.redactor()
        for cell in self.nb.cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and output.get("ename") in GRADER_ERRORS:
                    continue  # the grader's own words (a budget, a time limit), nothing of the learner's
                for key in ("text", "evalue"):
                    if isinstance(output.get(key), str):
                        output[key] = redact(output[key])
                if "traceback" in output:
                    output.traceback = [redact(str(line)) for line in output.traceback]
                for mime, value in list(output.get("data", {}).items()):
                    if isinstance(value, str) and not mime.startswith("image/"):
                        output.data[mime] = redact(value)

    def _deadline(self) -> float:
        self.budget_limited = self.budget.left < self.owner.timeout  # a timeout then means the budget is spent
        self.limit = max(0.0, min(self.owner.timeout, self.budget.left))
        return time.monotonic() + self.limit

    def _timed_out(self) -> None:
        if self.budget_limited:
            self.budget.spent = max(self.budget.spent, self.budget.seconds)

    def _ask(self, method, payload):
        kernel, busy = self.session.kernel, self.session.kernel.busy
        try:
            return self.session.kernel.ask(method, payload, self._deadline())[1]
        except KernelFault as fault:
            if fault.kind == "timeout":
                self._timed_out()
            self.recover(fault.kind, "the grader's own step")
            return None
        finally:
            self.budget.charge(kernel.busy - busy)  # learner code can make any round trip slow

    def stop_reason(self) -> str:
        if self.gave_up:
            return self.gave_up
        if self.budget.left <= 0.05:
            self.gave_up = (f"the notebook used its whole time budget ({self.owner.notebook_budget:g} s); "
                            "nothing more was run, and the parts not yet graded score 0")
            self.note(self.gave_up)
        return self.gave_up

    def kernel_cell(self, index: int, cell, charged: bool = True) -> None:
        """Run a cell in the learner's kernel (the course's setup cells are not charged to the budget)."""
        if self.stop_reason():
            return
        if self.test_open:
            self.test_open = False
            kernel, reinstalled = self.session.kernel, self.session.kernel.reinstalled
            self._ask("end_test", None)
            if kernel.reinstalled > reinstalled:
                self.helper_reinstalled(self.where(cell, index))
            if self.stop_reason():
                return
        run = self.session.kernel.execute(cell.source, self._deadline())
        if charged:
            self.budget.charge(run.seconds)
        cell.outputs = run.outputs
        cell.execution_count = run.execution_count
        for output in run.outputs:
            if output.get("output_type") == "error" and output.get("ename") in NOTABLE:
                self.note(f"'{self.where(cell, index)}' {NOTABLE[output.ename]}: {output.ename}: "
                          f"{self.theirs(output.get('evalue', ''))}"[:300])
        if not run.fault:
            self.ran.append(index)
            return
        where = self.where(cell, index)
        cause = self.fault_text(run.fault, where)
        if run.fault == "timeout":
            self._timed_out()
        cell.outputs.append(from_dict({"output_type": "error", "ename": "CellFault", "evalue": cause,
                                       "traceback": [f"CellFault: {cause}"]}))
        if run.fault == "timeout" and run.recovered:
            self.note(f"'{where}' {cause}")
            return
        self.recover(run.fault, where)

    def helper_reinstalled(self, where: str) -> None:
        self.note(f"'{where}': your code had removed or changed the grader's helper in your kernel "
                  "(__clientcare__); it was installed again")

    def fault_text(self, fault: str, where: str) -> str:
        return {"timeout": f"ran past its time limit ({self.limit:.0f} s): an endless loop or a long wait?",
                "dead": "stopped the Python process running it (the kernel died)",
                "flood": f"printed more than {self.owner.flood_bytes // 1_000_000} MB of output",
                "broken": f"left the Python interpreter running it broken (it raised {BROKEN_INTERPRETER})"}[fault]

    def recover(self, fault: str, where: str) -> None:
        """Replace a kernel that died, stuck or flooded; run the setup and the cells that had run again."""
        cause = self.fault_text(fault, where)
        if self.stop_reason():
            self.note(f"'{where}' {cause}")  # the part's own cause, beside the reason nothing more runs
            return
        self.session.kernel.shutdown()
        self.replacements += 1
        if self.replacements > self.owner.max_replacements:
            self.gave_up = (f"the kernel had to be replaced {self.owner.max_replacements} times; nothing more was "
                            "run, and the parts not yet graded score 0")
            self.note(f"'{where}' {cause}; {self.gave_up}")
            return
        self.note(f"'{where}' {cause}; only that part lost its points: a new kernel was started, the setup and "
                  "your other cells were run again, and grading went on")
        started = time.monotonic()
        self.test_open = False
        self.session.kernel = self.owner._new_kernel(self.kernel_name, self.workdir, self.scratch)
        # a replacement kernel is the submission's cost too; a new warm sandbox for it is the grader's own
        self.budget.charge(max(0.0, time.monotonic() - started - self.session.kernel.set_up))
        setup = self.classify()
        for index in list(self.ran):
            run = self.session.kernel.execute(self.nb.cells[index].source, self._deadline(), keep_outputs=False)
            self.budget.charge(run.seconds)
            if run.fault:
                self.ran.remove(index)
                return self.recover(run.fault, self.where(self.nb.cells[index], index))
            if setup and index == setup[-1]:
                self._ask("setup_done", None)

    def test_cell(self, index: int, cell) -> None:
        where = self.where(cell, index)
        reason = self.stop_reason()
        if reason:
            self.error(cell, "NotGraded", f"not run: {reason}")
            set_cell_note(cell, "failure", {"ename": "NotGraded", "evalue": reason, "hidden": False})
            return
        kernel_fault = None
        # charged: every round trip with the kernel (the calls and the grader's own requests around them);
        # not the test's own code, which is the course's
        kernel = self.session.kernel
        busy, reinstalled = kernel.busy, kernel.reinstalled
        try:
            deadline = self._deadline()
            changed = self.session.prepare(cell.source, deadline, f"<test {where}>")
            if changed:
                self.note(f"your code had replaced {self.theirs(', '.join(str(c)[:80] for c in changed[:5]))}; the "
                          "originals were put back before the tests ran")
            printed, error, hidden = run_test(self.session, cell.source, f"<test {where}>")
            self.session.hidden_changes()
            self.test_open = not isinstance(error, KernelFault)  # ended before the learner's next cell
        except KernelFault as fault:
            printed, error, hidden = "", fault, False
        except Exception as fault:  # what the kernel answered could not be used: this part fails, grading goes on
            printed, hidden = "", False
            error = LearnerError(f"the grader could not use what your kernel answered ({str(fault)[:200]})")
            self.note(f"'{where}': your code broke the grader's link to your functions "
                      f"({self.theirs(str(fault)[:200])}); that part scores 0")
        if kernel.reinstalled > reinstalled:
            self.helper_reinstalled(where)
        broken = any(event[0] == "raised" and event[2] == BROKEN_INTERPRETER for event in self.session.events)
        if isinstance(error, KernelFault):
            kernel_fault = error
        self.budget.charge(kernel.busy - busy)
        if kernel_fault is not None and kernel_fault.kind == "timeout":
            self._timed_out()
        if printed and not (error is not None and hidden):
            text = printed if len(printed) <= 5000 else printed[:5000] + "\n[more output was not kept]\n"
            cell.outputs.append(from_dict({"output_type": "stream", "name": "stdout", "text": text}))
        if error is not None:
            ename, shown, real = self.describe(error, cell, hidden, where)
            self.error(cell, ename, shown)
            set_cell_note(cell, "failure", {"ename": ename, "evalue": real[:2000], "hidden": hidden})
        self.events(where)
        if kernel_fault is not None and not self.session.kernel.usable:
            self.recover(kernel_fault.kind, where)
        elif broken:
            self.recover("broken", where)
        elif kernel_fault is not None:
            self.note(f"'{where}' {self.fault_text(kernel_fault.kind, where)}; the kernel was interrupted and "
                      "grading went on")

    @staticmethod
    def error(cell, ename: str, evalue: str) -> None:
        cell.outputs.append(from_dict({"output_type": "error", "ename": ename, "evalue": evalue,
                                       "traceback": [f"{ename}: {evalue}"]}))

    def describe(self, error: BaseException, cell, hidden: bool, where: str) -> tuple[str, str, str]:
        """(error name, what the learner is shown, the real message for the instructor)."""
        real = str(error)
        call = getattr(error, "_clientcare_call", None)
        if isinstance(error, KernelFault):
            return "CellTimeoutError" if error.kind == "timeout" else "DeadKernelError", \
                f"your code {self.fault_text(error.kind, where)}", real
        if isinstance(error, BudgetExhausted):
            return "NotGraded", real, real
        if isinstance(error, NotImplementedError) and call:
            return "NotImplementedError", f"{call[0]}() is still to write (it raises NotImplementedError)", real
        if isinstance(error, NameError) and getattr(error, "name", None) in self.session.missing:
            name = error.name
            near = self.session.near.get(name)
            if near:
                why = ("only the case of its letters differs" if near.casefold() == name.casefold() else
                       "some of its letters only look the same: they are from another alphabet")
                near = self.theirs(near)
                self.note(f"'{where}': {name} is not defined, but your answers define {near!r}: {why}")
                return "NameError", (f"{name} is not defined by your answers; they define {near!r}, which is "
                                     f"not the same name ({why}): write it with exactly the letters {name!r}"), real
            return "NameError", (f"{name} is not defined by your answers (write it in its answer cell, "
                                 "with that exact name, and make sure the cell runs)"), real
        if isinstance(error, (NotPlainResult, LearnerError)) and not hidden:
            return type(error).__name__, real[:1000], real
        if hidden:
            checks = checks_line(cell.source)
            shown = (f"a hidden check failed: {checks}" if checks else
                     f"a hidden check of '{where}' failed (fresh data or an edge case of this part)")
            return type(error).__name__, shown, real
        if call and call[1] == BROKEN_INTERPRETER:
            return BROKEN_INTERPRETER, f"{call[0]}() {NOTABLE[BROKEN_INTERPRETER]}: {call[2]}"[:1000], real
        return type(error).__name__, real[:1000], real

    def events(self, where: str) -> None:
        for event in self.session.events:
            hidden = event[4]  # a call from a hidden test: nothing the learner's code made is repeated
            if event[0] == "raised" and event[2] in NOTABLE:
                self.note(f"'{where}': {event[1]}() {NOTABLE[event[2]]}" + ("" if hidden else
                                                                          f": {event[2]}: {self.theirs(event[3])}"[:400]))
            elif event[0] == "raised" and event[2] == "NotImplementedError":
                self.note(f"{event[1]}() is still to write (it raises NotImplementedError), so its tests score 0")
            elif event[0] == "notplain":
                what = "something" if hidden else f"a {self.theirs(event[2][:100])}"
                why = f" ({self.theirs(event[3])})" if event[3] and not hidden else ""
                self.note(f"'{where}': {event[1]}() returned {what}, which the tests cannot check{why}; "
                          "such results score 0")
            elif event[0] == "modified":
                self.note(f"'{where}': {event[1]}() modified the course's {event[2]} that the test gave it; it was "
                          "put back as the course has it before the next test, so only the tests of that call "
                          "could lose points for it")
            elif event[0] == "unusable":
                self.note(f"'{where}': the test needs {event[1]}, but your code made it a {event[2]}")
        self.session.events.clear()

    def summarise(self) -> None:
        if self.session.printed:
            self.note(f"your functions printed {self.session.printed:,} characters while the tests ran; that "
                      "output is not shown and does not affect the grade")
