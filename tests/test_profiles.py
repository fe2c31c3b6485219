"""Several accounts: ``[profiles.NAME]``, ``--profile``, ``api_key_command``; each profile
its own local inbox, its name in the status line."""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from demo_fixtures import ServeDemo
from support.apps import FIXED, app_settings, inbox, settle
from textual.widgets import Static

from lemlist_tui.__main__ import main
from lemlist_tui.api.base import account_fingerprint
from lemlist_tui.app import make_app
from lemlist_tui.config import (
    ConfigError,
    KeyCommandError,
    Settings,
    load_config,
    run_key_command,
)
from lemlist_tui.demo import DemoConfig
from lemlist_tui.exit_codes import ExitCode
from lemlist_tui.inbox.status import InboxStatus, fitted, status_parts
from lemlist_tui.screens import InboxScreen, ProblemScreen
from lemlist_tui.session import MissingKeyError, resolve_account
from lemlist_tui.widgets import StatusLine

PY = sys.executable


def printing(text: str, *, status: int = 0, stderr: str = "") -> list[str]:
    """A real small command: prints ``text``, ``stderr`` on stderr, exits ``status``."""
    code = f"import sys; print({text!r}); print({stderr!r}, file=sys.stderr); sys.exit({status})"
    return [PY, "-c", code]


def toml_list(words: list[str]) -> str:
    return "[" + ", ".join(f"'''{word}'''" for word in words) + "]"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return path


def resolved(path: Path, tmp_path: Path, **overrides: object) -> Settings:
    return Settings.resolve(
        env={},
        config=load_config(path),
        cache_dir=tmp_path / "cache",
        state_path=tmp_path / "state" / "state.json",
        config_path=path,
        undo_for=0.0,
        **overrides,
    )


# --- two profiles, two databases: the app against a demo served over HTTP ---------------


async def test_two_profiles_never_see_each_others_database(
    tmp_path: Path, serve_demo: ServeDemo
) -> None:
    # One lemlist server that takes both keys: only the profile tells the accounts apart.
    base_url, _demo = serve_demo(
        DemoConfig(size=40, now=FIXED, users=1, api_keys=("work-key", "home-key"))
    )
    path = write_config(
        tmp_path,
        'api_key = "top-key"\n'
        f"[profiles.work]\napi_key_command = {toml_list(printing('work-key'))}\n"
        f'base_url = "{base_url}"\n'
        f"[profiles.home]\napi_key_command = {toml_list(printing('home-key'))}\n"
        f'base_url = "{base_url}"\n',
    )
    work = resolved(path, tmp_path, profile="work")
    home = resolved(path, tmp_path, profile="home")
    assert work.api_key == "work-key" and home.api_key == "home-key"  # the commands ran

    app = make_app(work, clock=lambda: FIXED)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = inbox(app)
        assert screen.conversation_list.row_count > 0
        status = app.screen.query_one(StatusLine).status
        assert status is not None and status.profile == "work"
        assert str(app.screen.query_one(StatusLine).render()).startswith("[work]")

    # home, offline: nothing of work's inbox is there for it.
    app = make_app(replace(home, offline=True), clock=lambda: FIXED)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProblemScreen)
        text = " ".join(str(static.content) for static in app.screen.query(Static))
        assert "nothing is stored for this account yet" in text

    # work, offline: its own inbox, kept from the first run.
    app = make_app(replace(work, offline=True), clock=lambda: FIXED)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert inbox(app).conversation_list.row_count > 0

    folders = {resolve_account(s).folder for s in (work, home)}
    assert len(folders) == 2 and all(f.parent == tmp_path / "cache" for f in folders)


async def test_two_profiles_on_the_demo_do_not_share_its_database(tmp_path: Path) -> None:
    # One key (the demo's) for both: the profile alone keeps the inboxes apart.
    config = DemoConfig(size=30, now=FIXED, users=1)
    app = make_app(app_settings(tmp_path, profile="a"), demo_config=config, clock=lambda: FIXED)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert inbox(app).conversation_list.row_count == 30
    for profile, shows_inbox in (("b", False), ("a", True)):
        settings = app_settings(tmp_path, profile=profile, offline=True)
        app = make_app(settings, demo_config=config, clock=lambda: FIXED)
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, InboxScreen) is shows_inbox, profile


def test_each_profile_its_own_folder_even_on_one_account_or_the_demo(tmp_path: Path) -> None:
    base = Settings(api_key="same-key", base_url="https://api.lemlist.com/api", cache_dir=tmp_path)
    plain = resolve_account(base)
    # The old single-key config keeps its folder (no new crawl after the upgrade).
    assert plain.folder == tmp_path / account_fingerprint("same-key", plain.base_url)
    folders = {
        plain.folder,
        resolve_account(replace(base, profile="a")).folder,
        resolve_account(replace(base, profile="b")).folder,
        resolve_account(replace(base, profile="a", base_url="https://proxy.example/api")).folder,
        resolve_account(replace(base, demo=True, profile="a")).folder,
        resolve_account(replace(base, demo=True, profile="b")).folder,
        resolve_account(replace(base, demo=True)).folder,
    }
    assert len(folders) == 7
    assert all(folder.parent == tmp_path for folder in folders)
    # The tag that parts the profiles never reaches the URL the client calls.
    account = resolve_account(replace(base, profile="a"))
    assert account.base_url.partition("#")[0] == "https://api.lemlist.com/api"


# --- which settings win --------------------------------------------------------------


def test_a_profile_overrides_the_top_and_outranks_the_environment(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        'api_key = "top-key"\ntheme = "textual-light"\nundo_for = 9\n'
        '[profiles.work]\napi_key = "work-key"\nbase_url = "https://work.example/api"\n'
        "undo_for = 2\n"
        '[profiles.proxy]\nbase_url = "https://proxy.example/api"\nread_only = true\n',
    )
    config = load_config(path)
    env = {"LEMLIST_API_KEY": "env-key", "LEMLIST_BASE_URL": "https://env.example/api"}

    none = Settings.resolve(env=env, config=config)
    assert (none.api_key, none.base_url, none.profile) == (
        "env-key",
        "https://env.example/api",
        None,
    )

    work = Settings.resolve(env=env, config=config, profile="work")
    assert (work.api_key, work.base_url) == ("work-key", "https://work.example/api")
    assert work.undo_for == 2.0 and work.theme == "textual-light"  # the top fills the rest
    assert work.profile == "work"

    # A profile without a key takes the environment's, then the top's.
    proxy = Settings.resolve(env=env, config=config, profile="proxy")
    assert (proxy.api_key, proxy.base_url, proxy.read_only) == (
        "env-key",
        "https://proxy.example/api",
        True,
    )
    assert Settings.resolve(env={}, config=config, profile="proxy").api_key == "top-key"

    # LEMLIST_PROFILE chooses one too; --profile wins over it.
    by_env = Settings.resolve(env={**env, "LEMLIST_PROFILE": "work"}, config=config)
    assert by_env.profile == "work" and by_env.api_key == "work-key"
    both = Settings.resolve(env={"LEMLIST_PROFILE": "work"}, config=config, profile="proxy")
    assert both.profile == "proxy"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("wrok", "No profile 'wrok' in the config file (its profiles: home, work)."),
        ("../../etc", "A profile name is 1 to 64 letters, digits, _ or -"),
        ("", "A profile name is 1 to 64 letters"),
        ("x" * 65, "A profile name is 1 to 64 letters"),
    ],
)
def test_a_profile_that_is_not_there_is_one_sentence(tmp_path: Path, name: str, says: str) -> None:
    path = write_config(tmp_path, '[profiles.work]\napi_key = "k"\n[profiles.home]\n')
    with pytest.raises(ConfigError) as caught:
        Settings.resolve(env={}, config=load_config(path), profile=name)
    assert str(caught.value).startswith(says) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[profiles.work]\napi_key = 3\n", "`api_key` in [profiles.work] has the wrong type"),
        ("[profiles.work]\nfresh_for = -1\n", "`fresh_for` in [profiles.work] must be"),
        ("[profiles.work]\nread_only = 'yes'\n", "`read_only` in [profiles.work] must be true"),
        ('[profiles."a b"]\n', "the profile name 'a b' is not 1 to 64"),
        ("profiles = 3\n", "`profiles` must be tables"),
        ("[profiles]\nwork = 3\n", "`profiles.work` must be a table"),
        ('[profiles.work]\napi_key = "k"\napi_key_command = "pass x"\n', "not both"),
        ('[profiles.work]\napi_key_command = "pass \'x"\n', "cannot be split into words"),
        ("api_key_command = []\n", "`api_key_command` is empty"),
        ("api_key_command = [1]\n", "must be a command line or a list"),
        ("[profiles.work.keys]\nmark_read = 'M'\n", "cannot hold `keys`"),
    ],
)
def test_a_profile_table_is_checked_like_the_top(tmp_path: Path, text: str, says: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert says in message and str(path) in message and "\n" not in message


def test_a_key_in_a_profile_readable_by_others_gets_the_warning(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[profiles.work]\napi_key = "k1"\n')
    path.chmod(0o644)
    (warning,) = load_config(path).warnings
    assert "chmod 600" in warning and "k1" not in warning


# --- api_key_command -----------------------------------------------------------------


def test_the_key_is_the_first_line_of_the_output_stripped() -> None:
    assert run_key_command(printing("  k3y-abc  \nsecond line")) == "k3y-abc"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (printing("s3cr3t-out", status=3, stderr="s3cr3t-err"), "exited with status 3"),
        (printing("", stderr="s3cr3t-err"), "printed nothing"),
        (["/no/such/program-s3cr3t"], "was not found"),
        ([PY, "-c", "import time; print('s3cr3t-out', flush=True); time.sleep(30)"], "within"),
        (
            [PY, "-c", "import os, signal; print('s3cr3t-out'); os.kill(os.getpid(), 9)"],
            "was killed by signal 9",
        ),
    ],
    ids=["status", "empty", "not found", "timeout", "signal"],
)
def test_a_failing_command_is_one_sentence_without_its_output(argv: list[str], says: str) -> None:
    if "killed" in says and not hasattr(signal, "SIGKILL"):
        pytest.skip("no signals here")
    with pytest.raises(KeyCommandError) as caught:
        run_key_command(argv, timeout=1.0, profile="work")
    message = str(caught.value)
    assert message.startswith("The api_key_command of profile work")
    assert says in message and message.endswith("no API key.") and "\n" not in message
    assert "s3cr3t-out" not in message and "s3cr3t-err" not in message


def test_the_command_gets_no_stdin_and_runs_without_a_shell(tmp_path: Path) -> None:
    # A shell would expand $HOME and run the `;`: the words arrive as they were written.
    argv = [PY, "-c", "import sys; print(sys.stdin.read() or 'closed')"]
    assert run_key_command(argv) == "closed"  # stdin is /dev/null: no prompt can hang on it
    echo = [PY, "-c", "import sys; print(sys.argv[1])", "$HOME;x"]
    assert run_key_command(echo) == "$HOME;x"


def test_the_command_does_not_run_for_the_demo_or_when_another_key_wins(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    touch = [PY, "-c", f"open({str(marker)!r}, 'w').close(); print('k')"]
    path = write_config(
        tmp_path, f"api_key_command = {toml_list(touch)}\n[profiles.work]\napi_key = 'w'\n"
    )
    config = load_config(path)
    Settings.resolve(env={}, config=config, demo=True)
    Settings.resolve(env={"LEMLIST_API_KEY": "env-key"}, config=config)
    Settings.resolve(env={}, config=config, profile="work")
    assert not marker.exists()
    assert Settings.resolve(env={}, config=config).api_key == "k" and marker.exists()


def test_a_config_others_can_write_runs_no_command(tmp_path: Path) -> None:
    path = write_config(tmp_path, f"api_key_command = {toml_list(printing('k'))}\n")
    path.chmod(0o666)
    with pytest.raises(KeyCommandError, match="can be changed by other users"):
        Settings.resolve(env={}, config=load_config(path), config_path=path)


def test_the_cli_says_a_failing_command_in_one_line_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "xdg"
    path = home / "config" / "lemlist-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    failing = printing("s3cr3t-out", status=1, stderr="s3cr3t-err")
    path.write_text(f"[profiles.work]\napi_key_command = {toml_list(failing)}\n")
    path.chmod(0o600)
    for name, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(name, str(home / sub))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.delenv("LEMLIST_API_KEY", raising=False)
    monkeypatch.delenv("LEMLIST_PROFILE", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["--profile", "work", "--clear-cache"])
    assert exited.value.code == ExitCode.AUTH
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exited with status 1" in err
    assert "s3cr3t" not in err

    with pytest.raises(SystemExit) as exited:
        main(["export", "--profile", "nope", "--user", "usr_1"])
    assert exited.value.code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err == "lemlist-tui: No profile 'nope' in the config file (its profiles: work).\n"


def test_no_key_and_profiles_in_the_file_says_how_to_choose_one(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[profiles.work]\napi_key = 'w'\n[profiles.home]\n")
    settings = resolved(path, tmp_path)
    with pytest.raises(MissingKeyError, match=r"--profile home\|work"):
        resolve_account(settings)


def test_the_profile_leads_the_status_line_and_stays_when_narrow() -> None:
    status = InboxStatus(user="Ann Lee", loaded=120, total=120, unread=7, shown=120)
    assert "[" not in " ".join(part.text for part in status_parts(status))  # no profile
    parts = status_parts(replace(status, profile="work"))
    assert [part.text for part in parts[:2]] == ["[work]", "Ann Lee"]
    narrow = fitted(parts, 30)
    assert [part.text for part in narrow[:2]] == ["[work]", "Ann Lee"]
