"""The bare Textual apps the screen figures are measured against.

``python -m bench.anchor_apps line``          one line of text (start-up, memory)
``python -m bench.anchor_apps input``         a focused Input (the cost of any keystroke echo)
``python -m bench.anchor_apps table ROWS``    a DataTable of the rows in a JSON file
                                              (``{"columns": [...], "rows": [[...], ...]}``)

Kept to what a Textual user would write first: no tuning, default styles.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, Static

__all__ = ["LINE_TEXT", "BareInput", "BareLine", "BareTable"]

LINE_TEXT = "bench anchor: one line"


class BareLine(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(LINE_TEXT)


class BareInput(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter")


class BareTable(App[None]):
    def __init__(self, rows_path: Path) -> None:
        super().__init__()
        self._rows_path = rows_path

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        import orjson

        data = orjson.loads(self._rows_path.read_bytes())
        table = self.query_one(DataTable)
        table.add_columns(*data["columns"])
        table.add_rows(data["rows"])
        table.focus()


def main(argv: list[str]) -> None:
    kind = argv[0] if argv else "line"
    app: App[None]
    if kind == "line":
        app = BareLine()
    elif kind == "input":
        app = BareInput()
    elif kind == "table":
        app = BareTable(Path(argv[1]))
    else:
        raise SystemExit(f"unknown anchor app {kind!r}")
    app.run()


if __name__ == "__main__":
    main(sys.argv[1:])
