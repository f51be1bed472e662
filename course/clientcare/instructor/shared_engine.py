"""One SQLAlchemy engine per gradebook for the life of a grading worker, so nbgrader's queries compile once.

nbgrader opens a new ``Gradebook``, and with it a new SQLAlchemy engine, about nine times per
submission (the autograde converter and each of its database preprocessors). SQLAlchemy keeps
compiled statements per engine, so every submission compiled the same queries again: about 36
compilations per learner, 0.07 s of a learner's 1.7 s in one worker (measured).

``share_engines()``, called once in each grading worker, makes ``nbgrader.api.Gradebook`` reuse one
engine per database URL and options. Nothing else changes: each ``Gradebook`` still has its own
session and transactions, and its ``close()`` still disposes of the engine's pooled connections
(SQLAlchemy then opens new ones on the next use; the compiled statements are kept).
"""
from __future__ import annotations

import functools


def share_engines() -> bool:
    """From now on, in this process, every nbgrader ``Gradebook`` on one database URL shares one engine.

    Returns whether they do. An nbgrader that no longer opens its gradebook with ``sqlalchemy.create_engine``
    is left as it is (grading is only slower; ``tests/instructor/test_shared_engine.py`` then fails).
    """
    import nbgrader.api
    import sqlalchemy

    if getattr(nbgrader.api.create_engine, "shared", False):
        return True
    if nbgrader.api.create_engine is not sqlalchemy.create_engine:
        return False

    @functools.lru_cache(maxsize=16)
    def engine(url, **options):
        return sqlalchemy.create_engine(url, **options)

    def create_engine(url, **options):
        return engine(str(url), **options)

    create_engine.shared = True
    nbgrader.api.create_engine = create_engine
    return True
