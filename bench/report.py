"""Figures, targets, the printed table and the JSON file, plus the machine they ran on."""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import orjson

__all__ = [
    "Figure",
    "Row",
    "Target",
    "format_table",
    "machine",
    "median",
    "p95",
    "write_json",
]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile (an observed value, never an interpolation)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class Target:
    """What a row must reach: ``on`` the figure itself or on its ratio to the anchor."""

    op: Literal["<=", ">="]
    value: float
    on: Literal["ours", "ratio"]
    text: str
    also_zero: str | None = None
    """Name of a detail that must be 0 as well (e.g. the 429s of a crawl)."""

    def judge(self, row: Row) -> bool | None:
        subject = row.ours if self.on == "ours" else row.ratio
        if subject is None:
            return None
        met = subject <= self.value if self.op == "<=" else subject >= self.value
        if self.also_zero is not None:
            met = met and row.detail.get(self.also_zero) == 0
        return met


@dataclass(slots=True)
class Row:
    label: str
    ours: float | None
    unit: str
    anchors: dict[str, float | None] = field(default_factory=dict)
    ratio: float | None = None
    target: Target | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    met: bool | None = None

    def judge(self, quick: bool) -> None:
        self.met = None if quick or self.target is None else self.target.judge(self)


@dataclass(slots=True)
class Figure:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    available: bool = True
    note: str = ""
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def unavailable(cls, key: str, title: str, why: str) -> Figure:
        return cls(key, title, available=False, note=f"not available: {why}")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for row, raw in zip(self.rows, data["rows"], strict=True):
            raw["target"] = row.target.text if row.target else None
        return data


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit in ("B", "B/s", "rows/s"):
        return f"{value:,.0f} {unit}"
    if unit == "x":
        return f"{value:.2f}x"
    if float(value).is_integer():
        return f"{value:,.0f}{' ' + unit if unit else ''}"
    return f"{value:,.2f}{' ' + unit if unit else ''}"


def format_table(figures: Iterable[Figure], quick: bool) -> str:
    header = ("figure", "ours", "anchor(s)", "ratio", "target", "met?")
    lines: list[tuple[str, ...]] = []
    notes: list[str] = []
    for figure in figures:
        if not figure.available:
            lines.append((f"[{figure.key}] {figure.title}", "—", "—", "—", "—", "n/a"))
            notes.append(f"{figure.key}: {figure.note}")
            continue
        for row in figure.rows:
            anchors = ", ".join(f"{name} {_number(v, row.unit)}" for name, v in row.anchors.items())
            met = "—" if quick or row.met is None else ("yes" if row.met else "MISSED")
            ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
            target = row.target.text if row.target else "—"
            lines.append((row.label, _number(row.ours, row.unit), anchors, ratio, target, met))
        if figure.note:
            notes.append(f"{figure.key}: {figure.note}")
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    out += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    if quick:
        out.append("(quick mode: small sizes, one repetition; targets not judged)")
    out += [f"- {note}" for note in notes]
    return "\n".join(out)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "textual": _version("textual"),
        "httpx": _version("httpx"),
        "uvicorn": _version("uvicorn"),
        "pyte": _version("pyte"),
        "lemlist_tui": _version("lemlist-tui"),
        "load_average": os.getloadavg(),
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
    )
