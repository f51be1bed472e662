"""In-kernel guard, installed in the grading kernel before any learner code runs: defence in depth only.

No grade depends on it: autograded tests run outside the learner's kernel
(``preprocessors/judged_execute.py``), so nothing in the kernel can change a verdict.
What it still does, through an audit hook (which Python code cannot remove): before
every statement the kernel runs, it puts back builtins the learner's code replaced,
and after every cell too, so the kernel's own machinery keeps working.

It also understands cell marks (``SETUP``, ``BEGIN``, ``END``) from the earlier design,
in which tests ran in the kernel; the grader no longer writes them into learners'
cells, so that part is idle unless a notebook carries marks itself.

What it cannot stop: code that escapes Python (native code), or that reaches the
guard's own state through the garbage collector.
"""
from __future__ import annotations

import builtins
import importlib
import sys
import types

SETUP = "clientcare:setup"
BEGIN = "clientcare:begin-test"
END = "clientcare:end-test"
MARK_NAME = "_clientcare_mark"
GUARDED_MODULES = ("math", "operator", "numpy", "numpy.testing", "pandas", "pandas.testing")
# Classes whose methods tests rely on (e.g. DataFrame.equals): snapshotted like modules.
GUARDED_CLASSES = ("pandas:DataFrame", "pandas:Series", "pandas:Index", "pandas.core.generic:NDFrame")
# Builtins that IPython and ipykernel themselves replace around every cell.
KERNEL_MANAGED_BUILTINS = {"input", "raw_input", "exit", "quit", "get_ipython", "display", "help",
                           "copyright", "credits", "license", "_", "__", "___", "__IPYTHON__"}


class TestIntegrityError(AssertionError):
    """A test cannot be trusted because the submission changed what it relies on."""


class GradingSandboxError(RuntimeError):
    """The submission tried something that is not allowed while grading."""


def _marks(code: types.CodeType) -> list[str]:
    return [c for c in code.co_consts if isinstance(c, str) and c.startswith("clientcare:")]


class Guard:
    def __init__(self, module_names=GUARDED_MODULES):
        # Builtins are taken when the setup cell runs: IPython adjusts a few (exit, quit) around every cell.
        self.builtins: dict = {}
        self.modules = {}  # label -> (module or class, snapshot of its attributes)
        for name in module_names:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            self.modules[name] = (module, dict(vars(module)))
        for path in GUARDED_CLASSES:
            module_name, _, class_name = path.partition(":")
            try:
                cls = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError):
                continue
            self.modules[f"{module_name}.{class_name}"] = (cls, dict(vars(cls)))
        self.setup_code: types.CodeType | None = None
        self.busy = False
        self.hidden: dict = {}  # the learner's globals that shadow builtins, set aside during a test
        self.kernel_globals: dict = {}
        self.noticed: set[str] = set()  # replaced builtins already put back, reported at the next test

    # -- what changed, and putting it back

    def changes(self) -> list[str]:
        changed = [f"builtins.{k}" for k, v in self.builtins.items() if vars(builtins).get(k, None) is not v]
        for name, (owner, attributes) in self.modules.items():
            if isinstance(owner, types.ModuleType) and sys.modules.get(name) is not owner:
                changed.append(f"sys.modules[{name!r}]")
            current = vars(owner)
            changed += [f"{name}.{k}" for k, v in attributes.items() if current.get(k, None) is not v]
            if isinstance(owner, type):  # a method added to a class shadows the inherited one
                changed += [f"{name}.{k}" for k in current if k not in attributes]
        return changed

    def restore(self) -> list[str]:
        changed = self.changes()
        for key, value in self.builtins.items():
            if vars(builtins).get(key, None) is not value:
                setattr(builtins, key, value)
        for name, (module, attributes) in self.modules.items():
            if isinstance(module, types.ModuleType):
                sys.modules[name] = module
            for key, value in attributes.items():
                if vars(module).get(key, None) is not value:
                    setattr(module, key, value)
            if isinstance(module, type):
                for key in [k for k in vars(module) if k not in attributes]:
                    delattr(module, key)
        return changed

    # -- the audit hook

    def restore_builtins(self) -> None:
        """Put back replaced builtins (run before every statement: the kernel itself needs them)."""
        for key, value in self.builtins.items():
            if vars(builtins).get(key, None) is not value:
                setattr(builtins, key, value)
                self.noticed.add(f"builtins.{key}")

    def audit(self, event: str, args: tuple) -> None:
        if event == "exec" and args and isinstance(args[0], types.CodeType) and not self.busy:
            self.restore_builtins()
            for mark in _marks(args[0]):
                if mark.startswith(SETUP) and self.setup_code is None:
                    self.setup_code = _compile_setup(mark[len(SETUP) + 1:])
                    self.builtins = {k: v for k, v in vars(builtins).items() if k not in KERNEL_MANAGED_BUILTINS}
                    # IPython puts a few of its own (e.g. `open`) in the user's namespace: those are not shadows.
                    self.kernel_globals = {k: v for k, v in _user_namespace().items() if k in self.builtins}
                    _after_every_cell(self.restore_builtins)
                elif mark.startswith(BEGIN):
                    self._begin(mark)
                elif mark.startswith(END):
                    self._end(mark)
        elif event == "object.__setattr__" and self.setup_code is not None and args[1] == "__code__":
            # Swapping a function's code keeps its identity, so restoring by identity would miss it.
            raise GradingSandboxError(f"replacing the code of {getattr(args[0], '__qualname__', args[0])!r} "
                                      "is not allowed while grading")

    def _begin(self, mark: str) -> None:
        changed = sorted(self.noticed) + self.restore()
        self.noticed.clear()
        namespace = _user_namespace()
        self._put_back(namespace)
        self.hidden = {k: namespace.pop(k) for k in list(namespace)
                       if k in self.builtins and not k.startswith("_") and self.kernel_globals.get(k) is not namespace[k]}
        if self.hidden:
            changed.append(f"the built-in name(s) {', '.join(sorted(self.hidden))} (set aside during this test)")
        if changed:
            print(f"[clientcare guard] the submission had replaced {', '.join(changed[:5])}; "
                  "the originals were put back before this test.")  # stdout: nbgrader fails a test on stderr
        if self.setup_code is not None:
            self.busy = True
            try:
                exec(self.setup_code, namespace)
            finally:
                self.busy = False

    def _put_back(self, namespace: dict) -> None:
        namespace.update(self.hidden)
        self.hidden = {}

    def _end(self, mark: str) -> None:
        changed = self.restore()
        self._put_back(_user_namespace())
        if changed:
            raise TestIntegrityError(
                f"the submission replaced {', '.join(changed[:5])} while this test ran, "
                "so the test cannot be trusted and scores 0")


def _after_every_cell(callback) -> None:
    """Also put builtins back when a cell ends, before the kernel sends its reply."""
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance().events.register("post_execute", callback)


def _compile_setup(source: str) -> types.CodeType:
    """The course's setup code as the kernel would run it (IPython magics turned into Python)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return compile(TransformerManager().transform_cell(source), "<course setup>", "exec")


def _user_namespace() -> dict:
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance().user_ns


_installed: Guard | None = None


def install() -> Guard:
    """Snapshot the guarded modules and register the audit hook (once per process)."""
    global _installed
    if _installed is None:
        _installed = Guard()
        sys.addaudithook(_installed.audit)
    return _installed
