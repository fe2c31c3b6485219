"""lemlist-tui's benchmarks: ``python -m bench [--quick] [--out PATH] [--only NAMES]``.

Each figure is measured beside an anchor run in the same process on the same machine
(these machines are shared; only ratios travel), printed as one table and written as
JSON. ``--quick`` proves the suite still runs (tiny sizes, one repetition, no targets).
"""

from __future__ import annotations

__all__ = ["FIGURES"]

FIGURES = (
    "crawl",
    "refresh",
    "cold_start",
    "keystroke_latency",
    "peak_rss",
    "bytes_per_move",
)
"""The figures of issue 5, in the order the table shows them (also the JSON keys)."""
