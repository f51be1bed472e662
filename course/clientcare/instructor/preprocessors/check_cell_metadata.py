"""``CheckCellMetadata`` (nbgrader sanitise and autograde step): nbgrader's own check, its schema checked once.

nbgrader's ``CheckCellMetadata`` validates every graded cell's ``nbgrader`` metadata with
``jsonschema.validate``, which first checks nbgrader's schema itself against the JSON Schema
meta-schema, cell after cell: about a quarter of a second per learner on a 30-cell notebook
(autograde runs the check twice). This one makes the same checks with the same schema and
raises the same errors, but checks the schema once per process.
"""
from __future__ import annotations

import traceback

import jsonschema
from nbformat.notebooknode import NotebookNode
from nbgrader.nbgraderformat.common import (BaseMetadataValidator, SchemaTooNewError, SchemaTooOldError,
                                            ValidationError)
from nbgrader.nbgraderformat.v3 import MetadataValidatorV3
from nbgrader.preprocessors import CheckCellMetadata as StockCheckCellMetadata

_validators: dict[str, jsonschema.protocols.Validator] = {}


class _SchemaCheckedOnce(BaseMetadataValidator):
    """``BaseMetadataValidator.validate_cell`` with a validator built (and its schema checked) once."""

    def validate_cell(self, cell: NotebookNode) -> None:
        if "nbgrader" not in cell.metadata:
            return
        version = cell.metadata["nbgrader"].get("schema_version", 0)
        if version < self.schema_version:
            raise SchemaTooOldError(f"Outdated schema version: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        if version > self.schema_version:
            raise SchemaTooNewError(f"Schema version is too new: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        error = jsonschema.exceptions.best_match(self._validator().iter_errors(cell.metadata["nbgrader"]))
        if error is not None:
            raise error

    def _validator(self) -> jsonschema.protocols.Validator:
        key = type(self).__name__
        if key not in _validators:
            kind = jsonschema.validators.validator_for(self.schema)
            kind.check_schema(self.schema)  # as jsonschema.validate does, but once
            _validators[key] = kind(self.schema)
        return _validators[key]


class MetadataValidator(MetadataValidatorV3, _SchemaCheckedOnce):
    """nbgrader's current metadata validator; its schema step (``super().validate_cell``) is ``_SchemaCheckedOnce``'s."""


class CheckCellMetadata(StockCheckCellMetadata):
    """nbgrader's ``CheckCellMetadata``, with the validator above: same checks, same log and error."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        try:
            MetadataValidator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            message = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(message)
            raise ValidationError(message)
        return nb, resources
