"""Synthetic attackers for the integrity tests: answers that try to pass tests without solving them.

attacker_submission(source_nb, release_nb, kind) gives the release notebook with every
answer cell replaced by the same functions returning fakes that never raise:
  "always_equal": an object whose == is always true (and every other comparison).
  "subclass": a subclass of the type the model answer returns (DataFrame, list, str,
      tuple, dict, float) with == (and DataFrame.equals) always true.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from clientcare.instructor.synthetic import solution_cells

# What each learner function returns in the model answer (for the "subclass" attacker).
RETURNS = {
    "rate_build_up": "dict", "validate_resourcing": "frame", "cost_lines": "frame", "fee_proposal": "frame",
    "scope_options": "frame", "staged_invoices": "frame",
    "decide_instruction": "tuple", "required_disclosures": "list", "approval_needed": "list",
    "minimise": "frame", "pseudonym": "str", "mask_phone": "str", "pseudonymise": "frame",
    "scrub_notes": "str", "scrub_table": "frame", "can_access": "other", "view_for_role": "frame",
    "csat": "float", "nps": "float", "minutes_within_72h": "float", "complaint_kpis": "dict",
    "dashboard": "frame", "plot_kpi": "other",
}

PREAMBLE = '''
import pandas as _pd_attack


class AlwaysEqual:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    def __hash__(self): return 0
    def __bool__(self): return True
    def __len__(self): return 3
    def __iter__(self): return iter([self, self, self])
    def __getitem__(self, key): return self
    def __contains__(self, item): return True
    def __float__(self): return 0.0
    def __round__(self, n=None): return self
    def __call__(self, *a, **k): return self
    def __getattr__(self, name): return self
    def __repr__(self): return "AlwaysEqual()"


class EqFrame(_pd_attack.DataFrame):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def equals(self, other): return True


class EqList(list):
    def __eq__(self, other): return True
    def __ne__(self, other): return False


class EqTuple(tuple):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = tuple.__hash__


class EqStr(str):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __contains__(self, item): return True
    __hash__ = str.__hash__


class EqDict(dict):
    def __eq__(self, other): return True
    def __ne__(self, other): return False


class EqFloat(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = float.__hash__


def _subclass_fake(kind):
    return {
        "frame": lambda: EqFrame({"a": [1.0, 2.0]}),
        "list": lambda: EqList(["COMMISSION"]),
        "tuple": lambda: EqTuple(("ACCEPT", "STANDARD")),
        "str": lambda: EqStr("D-0000000000"),
        "dict": lambda: EqDict(complaints=0),
        "float": lambda: EqFloat(50.0),
    }.get(kind, AlwaysEqual)()
'''


def functions_in(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


def attacker_submission(source_nb: Path, release_nb: Path, kind: str) -> nbformat.NotebookNode:
    source = solution_cells(nbformat.read(source_nb, as_version=4))
    submission = nbformat.read(release_nb, as_version=4)
    first = True
    for grade_id, cell in solution_cells(submission).items():
        if cell.cell_type != "code":
            continue
        lines = [PREAMBLE] if first else []
        first = False
        for name in functions_in(source[grade_id].source):
            if kind == "always_equal":
                lines.append(f"def {name}(*args, **kwargs):\n    return AlwaysEqual()\n")
            else:
                lines.append(f"def {name}(*args, **kwargs):\n    return _subclass_fake({RETURNS.get(name, 'other')!r})\n")
        cell.source = "\n".join(lines)
    return submission
