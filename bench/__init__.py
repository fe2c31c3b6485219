"""lemlist-tui's benchmarks: ``python -m bench [--quick] [--out PATH] [--only NAMES]``.

Each figure is measured beside an anchor run in the same process on the same machine
(these machines are shared; only ratios travel), printed as one table and written as
JSON. ``--quick`` proves the suite still runs (small sizes, one repetition, no targets).
The screen and export figures run on databases generated directly (``bench.dbgen``) and
cached between runs.
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
    "export",
    "triage",
    "ssh_bytes",
)
"""The figures of issues 5, 9, 10 and 12, in the order the table shows them (also the JSON
keys)."""
