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
    config = ConfigFile(api_key="from-file", base_url="https://file/api")
    env = {"LEMLIST_API_KEY": "from-env", "LEMLIST_BASE_URL": "https://env/api"}
    settings = Settings.resolve(env=env, config=config)
    assert settings.api_key == "from-env"
    assert settings.base_url == "https://env/api"
    settings = Settings.resolve(env={}, config=config, base_url="https://flag/api", demo=None)
    assert settings.api_key == "from-file"
    assert settings.base_url == "https://flag/api"
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


KEY = "k3y-S3CR3T-abc"


@pytest.mark.parametrize(
    ("base_url", "says"),
    [
        ("http://[::1/api", "is not an http(s) URL"),
        ("ftp://lemlist.example/api", "is not an http(s) URL"),
        ("https://", "is not an http(s) URL"),
        ("https://api.lemlist.com/a pi", "is not an http(s) URL"),
        ("http://api.lemlist.example/api", "plain http"),
    ],
)
def test_a_base_url_that_cannot_be_used_is_one_sentence(base_url: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.resolve(env={"LEMLIST_API_KEY": KEY}, config=ConfigFile(), base_url=base_url)
    message = str(caught.value)
    assert says in message and "\n" not in message and KEY not in message


def test_plain_http_is_allowed_on_this_machine_or_when_asked() -> None:
    for url in ("http://127.0.0.1:8000/api", "http://localhost/api", "http://[::1]:9/api"):
        assert Settings.resolve(env={}, config=ConfigFile(), base_url=url).base_url == url
    insecure = ConfigFile(allow_insecure=True)
    settings = Settings.resolve(env={}, config=insecure, base_url="http://proxy.lan/api")
    assert settings.base_url == "http://proxy.lan/api"


def test_a_line_end_left_by_a_crlf_file_is_stripped_from_the_url() -> None:
    settings = Settings.resolve(
        env={"LEMLIST_BASE_URL": "https://api.lemlist.com/api\r"}, config=ConfigFile()
    )
    assert settings.base_url == "https://api.lemlist.com/api"


@pytest.mark.parametrize("key", ["ab c", "abc\x00", "ab\udcffc", "clé"])
def test_a_key_no_lemlist_key_can_be_is_one_sentence_without_the_key(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.resolve(env={"LEMLIST_API_KEY": key}, config=ConfigFile())
    assert "API key" in str(caught.value) and key not in str(caught.value)


@pytest.mark.parametrize("user", ["x" * 100_000, "usr/../../x", "usr x", ""])
def test_a_user_id_that_is_not_one_is_refused(user: str) -> None:
    with pytest.raises(ConfigError, match="user id"):
        Settings.resolve(env={}, config=ConfigFile(), user_id=user)


def test_keys_are_read_with_the_line_each_was_written_on(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        "# my keys\n"
        'theme = "textual-dark"\n'
        "[profiles.work]\n"
        'mark_read = "not a key setting"\n'  # a profile's, not the keys table's
        "[keys]\n"
        'mark_read = "M"  # capital\n'
        '"refresh" = "ctrl+r"\n'
        'reader.close = "x,escape"\n'
        "\n"
        "[keys.inbox]\n"
        "undo = 'Z'\n",
    )
    keys = load_config(path).keys
    assert [(k.action, k.keys, k.where) for k in keys] == [
        ("mark_read", "M", "config.toml line 6"),
        ("refresh", "ctrl+r", "config.toml line 7"),
        ("reader.close", "x,escape", "config.toml line 8"),
        ("inbox.undo", "Z", "config.toml line 11"),
    ]


def test_keys_written_inline_name_the_keys_line(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'api_key = "k"\nkeys = { mark_read = "M" }\n')
    (choice,) = load_config(path).keys
    assert choice.where == "config.toml line 2"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("keys = 3\n", "`keys` must be a table"),
        ("[keys]\nmark_read = 3\n", "config.toml line 2: `[keys]` `mark_read` must be key names"),
        ("[keys.inbox.deep]\nx = 'M'\n", "line 1: `[keys]` `inbox.deep` must be key names"),
    ],
)
def test_keys_of_the_wrong_type_are_one_sentence(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path / "config.toml", text))
    assert says in str(caught.value) and "\n" not in str(caught.value)
