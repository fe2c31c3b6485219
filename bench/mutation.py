"""The mutation table from the last ``mutmut run``: ``python -m bench.mutation [mutants]``.

Reads ``mutants/**/*.py.meta`` (what mutmut wrote for each mutant: 1 or 3 killed, 36 and the
other timeout codes killed, 0 survived, 33 or 5 no test ran) and prints one Markdown row per
mutated module, the README's Reliability rows.

One kind of survivor is equivalent by the language, not by our judgement, and is counted
apart so a reader can check it: the same SQL statement in another letter case
(``"SELECT …"`` made ``"select …"``: a string holding a keyword in capitals). SQLite reads
keywords and names in any case; a change is counted here only when the statement's quoted
values (``'pending'``, ``'$.labels'``) are unchanged. Every other survivor counts against
the score, equivalent or not; the README lists those with a line of why.

The score is killed / (mutants - equivalent): a mutant no test could ever tell from the
original is not a test's miss.
"""

from __future__ import annotations

import argparse
import ast
import copy
import datetime as dt
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

KILLED = {1, 3, 36, 24, -24, 152, 255}
NO_TESTS = {5, 33}
SURVIVED = {0}

_SQL = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|PRAGMA|VALUES|WHERE|FROM|JOIN|AND|OR|NOT"
    r"|IN|EXISTS|ORDER BY|LIMIT|OFFSET|SET|IS NULL|ASC|DESC|INDEXED BY|GROUP BY)\b"
)
"""SQL as this code writes it: its keywords in capitals (English sentences have none)."""
_QUOTED = re.compile(r"'[^']*'")


@dataclass
class Module:
    path: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    unchecked: int = 0
    sql_case: int = 0

    @property
    def score(self) -> float:
        judged = self.mutants - self.sql_case
        return 100.0 * self.killed / judged if judged else 100.0

    @property
    def raw(self) -> float:
        return 100.0 * self.killed / self.mutants if self.mutants else 100.0


def _strings(node: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _shape(node: ast.AST) -> str:
    """The function without its string constants' letter case (and without its name)."""

    class Fold(ast.NodeTransformer):
        def visit_Constant(self, constant: ast.Constant) -> ast.Constant:
            if isinstance(constant.value, str):
                return ast.copy_location(ast.Constant(constant.value.lower()), constant)
            return constant

    folded = Fold().visit(copy.deepcopy(node))
    if isinstance(folded, ast.FunctionDef | ast.AsyncFunctionDef):
        folded.name = "_"
    return ast.dump(folded)


def is_sql_case(original: ast.AST, mutant: ast.AST) -> bool:
    """The mutant only changes the letter case of SQL text outside its quoted values."""
    if _shape(original) != _shape(mutant):
        return False
    changed = [(a, b) for a, b in zip(_strings(original), _strings(mutant), strict=True) if a != b]
    if len(changed) != 1:
        return False
    before, after = changed[0]
    return bool(_SQL.search(before)) and _QUOTED.findall(before) == _QUOTED.findall(after)


def _functions(source: Path) -> dict[str, ast.AST]:
    tree = ast.parse(source.read_text("utf-8"))
    return {
        node.name: node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def read(mutants: Path) -> list[Module]:
    modules: list[Module] = []
    for meta in sorted(mutants.rglob("*.py.meta")):
        try:
            codes: dict[str, int | None] = orjson.loads(meta.read_bytes())["exit_code_by_key"]
        except orjson.JSONDecodeError:  # mutmut is writing it: read again
            time.sleep(0.5)
            codes = orjson.loads(meta.read_bytes())["exit_code_by_key"]
        if not codes:
            continue
        source = meta.with_suffix("")
        functions = _functions(source)
        module = Module(str(source.relative_to(mutants)))
        for key, code in codes.items():
            module.mutants += 1
            if code is None:
                module.unchecked += 1
            elif code in KILLED:
                module.killed += 1
            elif code in NO_TESTS:
                module.no_tests += 1
            else:
                module.survived += 1
                name = key.rsplit(".", 1)[1]
                original = functions.get(name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
                mutant = functions.get(name)
                if original is not None and mutant is not None and is_sql_case(original, mutant):
                    module.sql_case += 1
        modules.append(module)
    return modules


def table(modules: list[Module], day: str) -> str:
    lines = [
        "| module | mutants | killed | survived (SQL case) | no test | score | run |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for m in modules:
        lines.append(
            f"| `{m.path.removeprefix('lemlist_tui/')}` | {m.mutants:,} | {m.killed:,} "
            f"| {m.survived:,} ({m.sql_case}) | {m.no_tests} | {m.score:.1f}% | {day} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutation", description=__doc__)
    parser.add_argument("mutants", nargs="?", default="mutants", type=Path)
    args = parser.parse_args(argv)
    if not args.mutants.is_dir():
        print(f"No {args.mutants}/ here: run `mutmut run` first.", file=sys.stderr)
        return 2
    modules = read(args.mutants)
    newest = max(p.stat().st_mtime for p in args.mutants.rglob("*.py.meta"))
    print(table(modules, dt.date.fromtimestamp(newest).isoformat()))
    unchecked = sum(m.unchecked for m in modules)
    if unchecked:
        print(f"{unchecked:,} mutants not checked yet: the run is not over.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
