"""Settings: file < environment < flags; bad files get a sentence; keys stay private."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lemlist_tui.config import (
    ConfigError,
    ConfigFile,
    Settings,
    last_user,
    load_config,
    remember_user,
)


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    assert load_config(tmp_path / "none.toml") == ConfigFile()


def test_file_values_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml", 'api_key = " k1 "\nbase_url = "http://x/api"\nfresh_for = 60\n'
    )
    config = load_config(path)
    assert config.api_key == "k1"
    assert config.base_url == "http://x/api"
    assert config.fresh_for == 60.0
    assert config.warnings == ()
    assert "k1" not in repr(config)


def test_key_readable_by_others_gets_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'api_key = "k1"\n', mode=0o644)
    (warning,) = load_config(path).warnings
    assert "chmod 600" in warning
    assert "k1" not in warning


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("api_key = ", "not valid TOML"),
        ("api_key = 3", "wrong type"),
        ("fresh_for = true", "wrong type"),
    ],
)
def test_broken_files_raise_one_sentence(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path / "c.toml", text))


def test_environment_beats_file_and_flags_beat_both(tmp_path: Path) -> None:
    config = ConfigFile(api_key="from-file", base_url="http://file/api")
    env = {"LEMLIST_API_KEY": "from-env", "LEMLIST_BASE_URL": "http://env/api"}
    settings = Settings.resolve(env=env, config=config)
    assert settings.api_key == "from-env"
    assert settings.base_url == "http://env/api"
    settings = Settings.resolve(env={}, config=config, base_url="http://flag/api", demo=None)
    assert settings.api_key == "from-file"
    assert settings.base_url == "http://flag/api"
    assert settings.demo is False
    assert "from-file" not in repr(settings)


def test_last_user_is_remembered_per_account(tmp_path: Path) -> None:
    state = tmp_path / "state" / "state.json"
    assert last_user(state, "acct1") is None
    remember_user(state, "acct1", "usr_a")
    remember_user(state, "acct2", "usr_b")
    assert last_user(state, "acct1") == "usr_a"
    assert last_user(state, "acct2") == "usr_b"
    assert state.stat().st_mode & 0o777 == 0o600
    state.write_text("{not json")
    assert last_user(state, "acct1") is None
