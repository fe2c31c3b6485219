"""The reliability suite's figures: printed at the end, written to ``figures.json``.

The README's Reliability section quotes them. The file is written only by a run that
exercised every part of the suite, so running one module never leaves partial figures.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from reliability_support import FIGURES

FIGURES_PATH = Path(__file__).with_name("figures.json")


def _complete() -> bool:
    f = FIGURES
    return all(n > 0 for n in (f.faults_tried, f.hostile_tried, f.kills_tried, f.fuzz_examples))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _complete():
        FIGURES_PATH.write_bytes(
            orjson.dumps(FIGURES.as_json(), option=orjson.OPT_INDENT_2) + b"\n"
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    f = FIGURES
    if not any((f.faults_tried, f.hostile_tried, f.kills_tried, f.fuzz_examples)):
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability figures")
    write(f"faults tried / survived:            {f.faults_tried} / {f.faults_survived}")
    write(f"hostile strings tried / shown safely: {f.hostile_tried} / {f.hostile_safe}")
    write(f"kills tried / database intact:      {f.kills_tried} / {f.kills_intact}")
    write(f"fuzz examples run:                  {f.fuzz_examples}")
    for name, count in sorted(f.details.items()):
        write(f"  {name}: {count}")
    for name, count in sorted(f.observed.items()):
        write(f"  {name}: {count} (this run)")
    if _complete():
        write(f"(written to {FIGURES_PATH})")
