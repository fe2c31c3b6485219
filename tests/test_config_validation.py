"""What is refused before anything is sent: the key, the base URL, ``--user``.

Each refusal is the one sentence the user reads; a value that can work is taken as it is.
(Issue 16: these kill the mutants ``mutmut`` found surviving in ``_checked`` and ``clean_url``.)
"""

from __future__ import annotations

from typing import Any

import pytest

from lemlist_tui.config import ConfigError, ConfigFile, Settings

KEY_SENTENCE = (
    "The API key holds a character no lemlist key has (a space, a line end or a "
    "non-ASCII byte): check LEMLIST_API_KEY, or api_key or what api_key_command prints."
)


def resolve(**overrides: Any) -> Settings:
    return Settings.resolve(env={}, config=ConfigFile(), **overrides)


@pytest.mark.parametrize("key", ["!abc", "abc~", "!~", "a" * 64])
def test_every_printable_ascii_character_can_be_in_a_key(key: str) -> None:
    assert resolve(api_key=key).api_key == key


@pytest.mark.parametrize("key", [" abc", "abc\x7f", "ab c", "clé", "abc\n"])
def test_a_key_with_a_character_no_key_has_is_one_sentence(key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        resolve(api_key=key)
    assert str(refused.value) == KEY_SENTENCE


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ftp://api.example", "ftp://api.example"),
        ("https://api.example/\x07x", "https://api.example/\ufffdx"),
        ("https://api.example/a b", "https://api.example/a b"),
        ("gopher://" + "a" * 71, "gopher://" + "a" * 71),  # 80 characters: quoted whole
        ("gopher://" + "a" * 72, "gopher://" + "a" * 70 + "…"),  # 81: cut to 80
    ],
)
def test_a_base_url_that_cannot_work_is_one_sentence_quoting_it_safely(
    url: str, shown: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        resolve(base_url=url)
    assert str(refused.value) == (
        f"The base URL {shown!r} is not an http(s) URL lemlist-tui can use "
        "(LEMLIST_BASE_URL, base_url or --base-url)."
    )


def test_plain_http_to_another_machine_is_refused_in_one_sentence() -> None:
    with pytest.raises(ConfigError) as refused:
        resolve(base_url="http://api.example/api")
    assert str(refused.value) == (
        "The base URL 'http://api.example/api' is plain http: the API key would cross the "
        "network unencrypted. Use https://, or set allow_insecure = true in the config file."
    )


@pytest.mark.parametrize(
    "url", ["http://localhost:8000", "http://127.0.0.1", "http://127.0.0.2:9", "http://[::1]/"]
)
def test_plain_http_to_this_machine_is_taken(url: str) -> None:
    assert resolve(base_url=url).base_url == url


def test_a_base_url_is_taken_without_its_surrounding_spaces() -> None:
    assert resolve(base_url="  https://api.example/api \n").base_url == "https://api.example/api"


@pytest.mark.parametrize("user", ["usr_AbC123", "a", "A-b_9" * 12])
def test_a_user_id_is_taken(user: str) -> None:
    assert resolve(user_id=user).user_id == user


@pytest.mark.parametrize("user", ["", "usr AbC", "usr/../x", "a" * 65, "usr_é"])
def test_a_user_id_that_cannot_be_one_is_one_sentence(user: str) -> None:
    with pytest.raises(ConfigError) as refused:
        resolve(user_id=user)
    assert str(refused.value) == (
        "--user takes a lemlist user id such as usr_AbC123 (letters, digits, _ and -)."
    )
