"""The command line: ``lemlist-tui`` opens the inbox browser, ``lemlist-tui export`` writes one.

Parsing stays light (no Textual import) so ``--help``, ``--version`` and ``export``
start fast; the app is imported only when it is about to run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from lemlist_tui import __version__

if TYPE_CHECKING:
    from lemlist_tui.config import Settings

__all__ = ["ExitCode", "main"]


class ExitCode:
    OK = 0
    OTHER = 1
    USAGE = 2
    AUTH = 3
    NETWORK = 4


def _paths_epilog() -> str:
    from lemlist_tui import config

    return f"""\
The API key comes from LEMLIST_API_KEY, else from api_key in the config file:
  {config.config_path()}
It is never read from the command line. No key? Try: lemlist-tui --demo

Other settings: LEMLIST_BASE_URL; in the config file: base_url, fresh_for (seconds),
theme. The cache lives in {config.cache_dir()} (XDG_CACHE_HOME moves it).

Exit codes: 0 ok, 1 other failure, 2 usage, 3 no key or key refused,
4 network unreachable or rate limited.
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
        "--clear-cache", action="store_true", help="empty this account's cache and exit"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    export = commands.add_parser(
        "export",
        help="write a user's inbox to stdout, one conversation per line, newest first",
        description="Write a user's inbox to stdout, one conversation per line, newest first.",
        epilog=_paths_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_account_options(export)
    export.add_argument("--user", metavar="USR", required=True, help="whose inbox (usr_…)")
    export.add_argument(
        "--unread", action="store_true", help="only conversations unread for that user"
    )
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    return parser


def _add_account_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo",
        action="store_true",
        default=None,
        help="use the built-in demo lemlist API: no key, no network",
    )
    parser.add_argument(
        "--demo-size",
        type=int,
        metavar="N",
        help="conversations in the demo inbox (default 2,345)",
    )
    parser.add_argument("--base-url", metavar="URL", help="lemlist API base URL")
    parser.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="read the cache only; send no request",
    )


def _fail(message: str, code: int) -> NoReturn:
    print(f"lemlist-tui: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    from lemlist_tui.config import ConfigError, Settings

    if args.demo_size is not None and not 0 <= args.demo_size <= 1_000_000:
        _fail("--demo-size must be between 0 and 1,000,000.", ExitCode.USAGE)
    try:
        settings = Settings.resolve(
            demo=args.demo,
            demo_size=args.demo_size,
            base_url=args.base_url,
            offline=args.offline,
            user_id=args.user,
        )
    except ConfigError as error:
        _fail(str(error), ExitCode.USAGE)
    for warning in settings.warnings:
        print(f"lemlist-tui: warning: {warning}", file=sys.stderr)

    if args.command == "export":
        raise SystemExit(asyncio.run(_export(settings, args.unread, args.format)))
    if args.clear_cache:
        raise SystemExit(_clear_cache(settings))

    from lemlist_tui.app import make_app

    make_app(settings).run()


def _clear_cache(settings: Settings) -> int:
    from lemlist_tui.session import MissingKeyError, open_session

    try:
        session = open_session(settings)
    except MissingKeyError as error:
        _fail(str(error), ExitCode.AUTH)
    if session.cache is not None:
        session.cache.clear()
    print("Cleared this account's cache.", file=sys.stderr)
    return ExitCode.OK


async def _export(settings: Settings, unread: bool, fmt: str) -> int:
    from lemlist_tui.api.errors import (
        AuthError,
        LemlistError,
        NetworkError,
        RateLimitedError,
        RequestTimeoutError,
    )
    from lemlist_tui.session import MissingKeyError, open_session
    from lemlist_tui.sync.export import export_inbox

    assert settings.user_id is not None
    try:
        session = open_session(settings)
    except MissingKeyError as error:
        _fail(str(error), ExitCode.AUTH)
    try:
        store = session.inbox(settings.user_id)
        store.load_cached()
        progress = sys.stderr if sys.stderr.isatty() else None
        await export_inbox(
            store,
            unread_only=unread,
            fmt="csv" if fmt == "csv" else "jsonl",
            out=sys.stdout,
            progress=progress,
        )
    except AuthError as error:
        _fail(str(error), ExitCode.AUTH)
    except (NetworkError, RateLimitedError, RequestTimeoutError) as error:
        _fail(str(error), ExitCode.NETWORK)
    except LemlistError as error:
        _fail(str(error), ExitCode.OTHER)
    except BrokenPipeError:
        return ExitCode.OK
    finally:
        await session.aclose()
    return ExitCode.OK


if __name__ == "__main__":
    main()
