"""Ralph's LRS app (``ralph.api:app``) with its file-system backend appending statements.

Ralph 5.1's file-system LRS backend writes with its data backend's default operation,
``create``, which refuses an existing file: the first batch of statements is stored and
every later one fails ("fs_lrs.jsonl already exists and overwrite is not allowed").
Served through this module, the backend appends instead (an operation it supports), so
it keeps every statement. Nothing else of Ralph is changed. Run by :mod:`.ralph`.
"""
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

from ralph.api import app  # noqa: E402  (after the change: the app builds its backend on import)

__all__ = ["app"]
