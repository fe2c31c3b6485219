"""bench.mutation: the README's mutation rows, and what it counts as equivalent."""

from __future__ import annotations

import ast
from pathlib import Path

import orjson

from bench.mutation import is_sql_case, main, read


def _function(source: str) -> ast.AST:
    return ast.parse(source).body[0]


ORIGINAL = """def f(db):
    return db.execute("SELECT id FROM outbox WHERE state = 'pending'").fetchall()
"""


def test_a_statement_in_another_case_is_equivalent() -> None:
    lower = ORIGINAL.replace("SELECT id FROM outbox WHERE", "select id from outbox where")
    assert is_sql_case(_function(ORIGINAL), _function(lower))


def test_a_quoted_value_in_another_case_is_not() -> None:
    upper = ORIGINAL.replace(
        "SELECT id FROM outbox WHERE state = 'pending'",
        "SELECT ID FROM OUTBOX WHERE STATE = 'PENDING'",
    )
    assert not is_sql_case(_function(ORIGINAL), _function(upper))


def test_any_other_change_or_an_english_sentence_is_not() -> None:
    emptied = ORIGINAL.replace(
        "SELECT id FROM outbox WHERE state = 'pending'",
        "XXSELECT id FROM outbox WHERE state = 'pending'XX",
    )
    assert not is_sql_case(_function(ORIGINAL), _function(emptied))
    other = ORIGINAL.replace(".fetchall()", ".fetchone()")
    assert not is_sql_case(_function(ORIGINAL), _function(other.lower()))
    sentence = 'def g():\n    return "Nothing to send and nothing to undo."\n'
    assert not is_sql_case(_function(sentence), _function(sentence.lower()))


def test_the_table_counts_each_outcome(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "mutants" / "lemlist_tui"
    folder.mkdir(parents=True)
    lower = ORIGINAL.replace("SELECT id FROM outbox WHERE", "select id from outbox where")
    source = (
        ORIGINAL.replace("def f(", "def x_f__mutmut_orig(")
        + lower.replace("def f(", "def x_f__mutmut_1(")
        + ORIGINAL.replace("fetchall", "fetchone").replace("def f(", "def x_f__mutmut_2(")
    )
    (folder / "m.py").write_text(source)
    codes = {
        "lemlist_tui.m.x_f__mutmut_1": 0,
        "lemlist_tui.m.x_f__mutmut_2": 0,
        "lemlist_tui.m.x_f__mutmut_3": 1,
        "lemlist_tui.m.x_f__mutmut_4": 36,
        "lemlist_tui.m.x_f__mutmut_5": 33,
    }
    (folder / "m.py.meta").write_bytes(orjson.dumps({"exit_code_by_key": codes}))
    [module] = read(tmp_path / "mutants")
    assert (module.mutants, module.killed, module.survived, module.sql_case, module.no_tests) == (
        5,
        2,
        2,
        1,
        1,
    )
    assert module.score == 50.0
    assert main([str(tmp_path / "mutants")]) == 0
    assert "| `m.py` | 5 | 2 | 2 (1) | 1 | 50.0% |" in capsys.readouterr().out
    assert main([str(tmp_path / "absent")]) == 2
