"""``LimitRichOutput`` (nbgrader autograde step): cut output floods before the gradebook and feedback."""
from __future__ import annotations

import json

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer


class LimitRichOutput(NbGraderPreprocessor):
    """Cap very long text, large images/HTML and the number of outputs per cell."""

    max_text_chars = Integer(20_000, help="characters of text kept per output").tag(config=True)
    max_line_chars = Integer(2_000, help="characters kept of any one line of text").tag(config=True)
    max_data_bytes = Integer(1_000_000, help="bytes of an image or HTML output kept").tag(config=True)
    max_outputs = Integer(50, help="outputs kept per cell").tag(config=True)

    def _cut(self, text: str) -> str:
        if len(text) > self.max_text_chars:
            cut = len(text) - self.max_text_chars
            text = text[: self.max_text_chars] + f"\n... {cut:,} characters of output removed ...\n"
        if any(len(line) > self.max_line_chars for line in text.split("\n")):
            text = "\n".join(line if len(line) <= self.max_line_chars else
                             line[: self.max_line_chars] + f" ... ({len(line) - self.max_line_chars:,} more characters)"
                             for line in text.split("\n"))
        return text

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type != "code":
            return cell, resources
        removed = max(0, len(cell.outputs) - self.max_outputs)
        cell.outputs = cell.outputs[: self.max_outputs]
        for output in cell.outputs:
            if output.output_type == "stream":
                output.text = self._cut(output.text)
            if output.output_type == "error":
                output.evalue = self._cut(str(output.get("evalue", "")))
                output.traceback = [self._cut(str(line)) for line in output.get("traceback", [])[:30]]
            for mime, data in list(output.get("data", {}).items()):
                size = len(data if isinstance(data, str) else json.dumps(data))
                if mime != "text/plain" and size > self.max_data_bytes:
                    del output.data[mime]
                    output.data.setdefault("text/plain", "")
                    output.data["text/plain"] += f"\n[{mime} output of {size / 1e6:.1f} MB removed]"
                elif mime == "text/plain":
                    output.data[mime] = self._cut(data if isinstance(data, str) else "".join(data))
        if removed:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout",
                                                       text=f"... {removed:,} more outputs removed ...\n"))
        return cell, resources
