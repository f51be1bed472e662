"""Client Care: helpers for the course's lessons and for its instructors.

Learners use the ``show_*`` functions in lesson notebooks::

    from clientcare import show_scenario, show_quiz, show_reflection

Each returns the activity's view (an ``ipywidgets.VBox``) and is imported on first use,
so ``import clientcare`` stays quick.
"""
from importlib import import_module

from .registry import exports

_EXPORTS = exports()  # show_* name -> module, one per kind in the registry

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'clientcare' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
