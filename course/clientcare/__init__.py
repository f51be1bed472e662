"""Client Care: helpers for the course's lessons and for its instructors.

Learners use the ``show_*`` functions in lesson notebooks::

    from clientcare import show_scenario, show_quiz, show_reflection

Each returns the activity's view (an ``ipywidgets.VBox``) and is imported on first use,
so ``import clientcare`` stays quick.
"""
from importlib import import_module

_EXPORTS = {
    "show_scenario": "scenario",
    "show_reflection": "reflection",
    "show_quiz": "quiz",
    "show_final_test": "quiz",
    "show_flashcards": "flashcards",
    "show_fee_calculator": "fee_calculator",
    "show_progress": "progress",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'clientcare' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
