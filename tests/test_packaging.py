"""The package installs as the README says and ships its stylesheet."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("lemlist_tui-*.whl")
    return found


def test_wheel_ships_the_stylesheet(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "lemlist_tui/styles.tcss" in names
    shipped = zipfile.ZipFile(wheel).read("lemlist_tui/styles.tcss")
    assert shipped == (ROOT / "styles.tcss").read_bytes()


def test_wheel_declares_the_console_script(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "lemlist-tui = lemlist_tui.__main__:main" in archive.read(entry_points).decode()


def test_version_and_help() -> None:
    from lemlist_tui import __version__

    version = subprocess.run(
        [sys.executable, "-m", "lemlist_tui", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == f"lemlist-tui {__version__}"
    help_text = subprocess.run(
        [sys.executable, "-m", "lemlist_tui", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for expected in ("--demo", "--user", "--offline", "--clear-cache", "export", "config.toml"):
        assert expected in help_text
