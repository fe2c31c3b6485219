"""What every figure gets: the run's settings, a scratch directory, and a progress log."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["ANCHOR_TIME", "Bench", "Unavailable"]

ANCHOR_TIME = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
"""The demo's "now" wherever the benchmark builds the demo itself: the same data every run."""


class Unavailable(Exception):
    """A piece a figure needs is not there yet (or fails); the table says why."""


@dataclass(frozen=True, slots=True)
class Bench:
    quick: bool
    repeat: int
    """Repetitions of each measured run (the figure is their median)."""
    scratch: Path
    """A private temporary directory, removed at the end."""
    verbose: bool = True

    def log(self, message: str) -> None:
        if self.verbose:
            stamp = time.strftime("%H:%M:%S")
            print(f"[bench {stamp}] {message}", file=sys.stderr, flush=True)
