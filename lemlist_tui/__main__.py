"""The command line: ``lemlist-tui`` opens the inbox browser, ``lemlist-tui export`` writes one.

Parsing stays light (no Textual import) so ``--help``, ``--version`` and ``export``
start fast; the app is imported only when it is about to run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NoReturn

from lemlist_tui import __version__
from lemlist_tui.exit_codes import ExitCode, failure_code

if TYPE_CHECKING:
    from lemlist_tui.config import Settings
    from lemlist_tui.session import Session

__all__ = ["ExitCode", "failure_code", "main"]


def _paths_epilog() -> str:
    from lemlist_tui import config

    return f"""\
The API key comes from LEMLIST_API_KEY, else from the config file: api_key, or
api_key_command (a command, run without a shell, that prints it: pass show …):
  {config.config_path()}
It is never read from the command line. No key? Try: lemlist-tui --demo

Profiles: [profiles.NAME] tables in the config file hold another account's
api_key or api_key_command, base_url, and any other setting; --profile NAME or
LEMLIST_PROFILE picks one. A profile named outranks LEMLIST_API_KEY and
LEMLIST_BASE_URL; what it leaves out comes from them, then the top of the file.
Each profile has its own local inbox.
Keys: a [keys] table gives actions other keys (mark_read = "M", or
inbox.mark_read = "M" for one screen; see the README for every action).

Other settings: LEMLIST_BASE_URL; in the config file: base_url, fresh_for (seconds),
theme, refresh_every, full_sync_every (seconds), sync ("background" or
"on-demand"), undo_for (seconds a change waits before it is sent: z takes it
back), request_deadline (seconds), allow_insecure (a plain http:// base_url),
read_only (true: change nothing in lemlist, as --read-only), ascii (true: as
--ascii).
The local inbox lives in {config.cache_dir()} (XDG_CACHE_HOME moves it).

Exit codes: 0 ok, 1 other failure, 2 usage, 3 no key or key refused,
4 network unreachable or rate limited, 128 + the signal's number when SIGTERM
(143) or SIGHUP (129) closed the app (the terminal is restored, as after q).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lemlist-tui",
        description="A terminal inbox browser for lemlist.",
        epilog=_paths_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lemlist-tui {__version__}")
    _add_account_options(parser)
    parser.add_argument("--user", metavar="USR", help="open this user's inbox (usr_…)")
    parser.add_argument(
        "--ascii",
        action="store_true",
        default=None,
        help="draw marks, borders and bars in ASCII (TERM=linux does too)",
    )
    parser.add_argument(
        "--clear-cache", action="store_true", help="empty this account's local inbox and exit"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    export = commands.add_parser(
        "export",
        help="write a user's inbox to stdout (JSON lines or CSV)",
        description="Write a user's inbox to stdout, one conversation per line, newest first.",
        epilog=_paths_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_account_options(export, sub=True)
    export.add_argument("--user", metavar="USR", required=True, help="whose inbox (usr_…)")
    export.add_argument(
        "--unread", action="store_true", help="only conversations unread for that user"
    )
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    sync = commands.add_parser(
        "sync",
        help="bring the local inbox up to date and exit (cron)",
        description=(
            "Bring the local inbox up to date and exit: a refresh when it is whole and its "
            "last full crawl is recent, else a full crawl. The app then opens warm."
        ),
        epilog=_paths_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_account_options(sync, sub=True)
    who = sync.add_mutually_exclusive_group()
    who.add_argument("--user", metavar="USR", help="whose inbox (default: the last opened)")
    who.add_argument("--all-users", action="store_true", help="every user of the team")
    sync.add_argument("--full", action="store_true", help="crawl every page again (sees deletions)")
    _add_serve(commands)
    return parser


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from lemlist_tui.web import DEFAULT_HOST, DEFAULT_PORT

    serve = commands.add_parser(
        "serve",
        help="serve the app to web browsers (textual-serve)",
        description=(
            "Serve the app to web browsers through textual-serve: each tab that opens the\n"
            "address runs its own app, with these options. It listens on 127.0.0.1 unless\n"
            "--host says otherwise: anyone who can reach the port gets the inbox, with no\n"
            "password. Needs the web extra: pip install 'lemlist-tui[web]'."
        ),
        epilog=(
            "Exit codes: 0 after ctrl+c, 1 when it cannot listen (the port taken) or\n"
            "textual-serve is missing, 2 usage."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_account_options(serve, sub=True)
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, if not http://HOST:PORT (a proxy, --host 0.0.0.0)",
    )


def _add_account_options(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """The account options, before or after the subcommand (``--demo export`` and
    ``export --demo`` alike): a subcommand's parser leaves out what it was not given,
    or its default would overwrite what the main parser read."""
    absent = argparse.SUPPRESS if sub else None
    parser.add_argument(
        "--demo",
        action="store_true",
        default=absent,
        help="use the built-in demo lemlist API: no key, no network",
    )
    parser.add_argument(
        "--demo-size",
        type=int,
        metavar="N",
        default=absent,
        help="conversations in the demo inbox (default 2,345)",
    )
    parser.add_argument("--base-url", metavar="URL", default=absent, help="lemlist API base URL")
    parser.add_argument(
        "--profile",
        metavar="NAME",
        default=absent,
        help="use [profiles.NAME] of the config file (its own account and local inbox)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        default=absent,
        help="read the local inbox only; send no request",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=absent,
        help="change nothing in lemlist (no mark read, label, interest, reply)",
    )
    parser.add_argument(
        "--presenter",
        action="store_true",
        default=absent,
        help="presenter mode: every person on screen invented, texts replaced (demos)",
    )


def _fail(message: str, code: int) -> NoReturn:
    print(f"lemlist-tui: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    from lemlist_tui.config import ConfigError, KeyCommandError, Settings

    if args.demo_size is not None and not 0 <= args.demo_size <= 1_000_000:
        _fail("--demo-size must be between 0 and 1,000,000.", ExitCode.USAGE)
    try:
        settings = Settings.resolve(
            demo=args.demo,
            demo_size=args.demo_size,
            base_url=args.base_url,
            offline=args.offline,
            read_only=args.read_only or None,
            ascii=getattr(args, "ascii", None),
            presenter=args.presenter or None,
            user_id=args.user,
            profile=args.profile,
        )
    except KeyCommandError as error:  # no key, as when none is set
        _fail(str(error), ExitCode.AUTH)
    except ConfigError as error:
        _fail(str(error), ExitCode.USAGE)
    for warning in settings.warnings:
        print(f"lemlist-tui: warning: {warning}", file=sys.stderr)

    if args.command == "export" and settings.presenter:
        _fail("export is refused in presenter mode: it writes the real inbox.", ExitCode.USAGE)
    with _crash_handler(settings):
        if args.command == "export":
            raise SystemExit(asyncio.run(_export(settings, args.unread, args.format)))
        if args.command == "sync":
            raise SystemExit(asyncio.run(_sync(settings, args.all_users, args.full)))
        if args.command == "serve":
            raise SystemExit(_serve(args))
        if args.clear_cache:
            raise SystemExit(_clear_cache(settings))

    from lemlist_tui.app import make_app

    app = make_app(settings)
    app.run()
    if app.crash_message is not None:
        print(app.crash_message, file=sys.stderr)
    # The app's own status: 0 after q, the problem's code after q on a problem screen
    # (no key, key refused, unreachable: see failure_code), 1 after an error it could
    # not handle (Textual sets it), ExitCode.SIGNALLED + the signal's number after
    # SIGTERM or SIGHUP.
    raise SystemExit(app.return_code or ExitCode.OK)


@contextlib.contextmanager
def _crash_handler(settings: Settings) -> Iterator[None]:
    """An unexpected failure of a subcommand, as the app's own: one line on stderr naming
    a report without the key and without locals (Python's traceback would print the
    error's message, which may quote it), then exit status 1."""
    try:
        yield
    except Exception as error:  # SystemExit and KeyboardInterrupt go their own way
        from lemlist_tui.crash import crash_sentence, write_report

        secrets = (settings.api_key,) if settings.api_key else ()
        report = write_report(error, settings.state_path.parent / "crashes", secrets)
        _fail(crash_sentence(error, report).removeprefix("lemlist-tui "), ExitCode.OTHER)


def _clear_cache(settings: Settings) -> int:
    from lemlist_tui.db import StorageError
    from lemlist_tui.session import MissingKeyError, clear_account, resolve_account

    try:
        clear_account(resolve_account(settings).folder)
    except MissingKeyError as error:
        _fail(str(error), ExitCode.AUTH)
    except StorageError as error:
        _fail(str(error), ExitCode.OTHER)
    print("Cleared this account's local inbox.", file=sys.stderr)
    return ExitCode.OK


def _serve(args: argparse.Namespace) -> int:
    from lemlist_tui.web import ServeError, ServeOptions, is_loopback, serve

    if not 0 < args.port < 65536:
        _fail(f"--port must be between 1 and 65535, not {args.port}.", ExitCode.USAGE)
    if not is_loopback(args.host):
        print(
            f"lemlist-tui: warning: serving on {args.host}: anyone who can reach port "
            f"{args.port} gets the inbox, with no password.",
            file=sys.stderr,
        )
    # The tab's app gets the options as given; the key stays in the environment (or the
    # config file), which the app inherits: never on its command line.
    app_options: list[str] = []
    for flag, value in (
        ("--demo", args.demo),
        ("--offline", args.offline),
        ("--read-only", args.read_only),
        ("--presenter", args.presenter),
        ("--ascii", args.ascii),
    ):
        if value:
            app_options.append(flag)
    for flag, value in (
        ("--demo-size", args.demo_size),
        ("--base-url", args.base_url),
        ("--profile", getattr(args, "profile", None)),
        ("--user", args.user),
    ):
        if value is not None:
            app_options += [flag, str(value)]
    options = ServeOptions(
        host=args.host, port=args.port, public_url=args.public_url, app_options=tuple(app_options)
    )
    try:
        serve(options)
    except ServeError as error:
        _fail(str(error), ExitCode.OTHER)
    return ExitCode.OK


async def _export(settings: Settings, unread: bool, fmt: str) -> int:
    from lemlist_tui.api.errors import LemlistError
    from lemlist_tui.session import open_session
    from lemlist_tui.sync.export import export_inbox, incomplete_note

    assert settings.user_id is not None
    try:
        session = open_session(settings)
    except LemlistError as error:
        _fail(str(error), failure_code(error))
    try:
        sync = session.inbox(settings.user_id)
        progress = sys.stderr if sys.stderr.isatty() else None
        await export_inbox(
            sync,
            unread_only=unread,
            fmt="csv" if fmt == "csv" else "jsonl",
            out=sys.stdout,
            progress=progress,
        )
        if sync.offline and (note := incomplete_note(sync)) is not None:
            print(f"lemlist-tui: warning: {note}", file=sys.stderr)
    except LemlistError as error:
        _fail(str(error), failure_code(error))
    except BrokenPipeError:
        return ExitCode.OK
    except OSError as error:  # stdout full, gone, or refusing: a sentence, not a traceback
        _quiet_stdout()
        reason = error.strerror or type(error).__name__
        _fail(f"Could not write the export to standard output: {reason}.", ExitCode.OTHER)
    finally:
        await session.aclose()
    return ExitCode.OK


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: the interpreter's last flush of what is still buffered
    would fail again at exit and print a traceback of its own."""
    import os

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


async def _sync(settings: Settings, all_users: bool, full: bool) -> int:
    from lemlist_tui.api.errors import LemlistError
    from lemlist_tui.session import open_session
    from lemlist_tui.sync.export import ProgressBar, bring_up_to_date

    if settings.offline:
        _fail("sync needs lemlist: drop --offline.", ExitCode.USAGE)
    try:
        session = open_session(settings)
    except LemlistError as error:
        _fail(str(error), failure_code(error))
    try:
        await _send_outbox(session)
        if all_users:
            team = await session.load_team()
            users = list(team.user_ids)
        elif settings.user_id is not None:
            users = [settings.user_id]
        else:
            last = session.last_user()
            if last is None:
                _fail("say whose inbox: --user usr_… or --all-users.", ExitCode.USAGE)
            users = [last]
        for user_id in users:
            sync = session.inbox(user_id)
            bar = ProgressBar(sys.stderr, what=user_id) if sys.stderr.isatty() else None
            try:
                await bring_up_to_date(sync, bar, full=full)
            finally:
                if bar is not None:
                    bar.close()
            held, unread = session.db.counts(user_id)
            print(f"{user_id}: {held:,} conversations, {unread:,} unread.", file=sys.stderr)
    except LemlistError as error:
        _fail(str(error), failure_code(error))
    finally:
        await session.aclose()
    return ExitCode.OK


async def _send_outbox(session: Session) -> None:
    """What the app queued and could not send (offline, closed too soon) goes out now,
    changes younger than the undo time excepted (an app may still take them back)."""
    from lemlist_tui.db.outbox import Outbox
    from lemlist_tui.sync.sender import OutboxSender

    if session.client is None:
        return
    outbox = Outbox(session.db)
    if session.settings.read_only:
        waiting = outbox.summary().sentence()
        if waiting:
            print(f"outbox: {waiting}; not sent (read-only).", file=sys.stderr)
        return
    sender = OutboxSender(outbox, session.client, held_for=session.settings.undo_for)
    await sender.drain(recover=False)
    left = outbox.summary().sentence()
    if sender.sent or left:
        said = f"outbox: {sender.sent:,} sent" + (f"; {left}" if left else "")
        print(f"{said}.", file=sys.stderr)


if __name__ == "__main__":
    main()
