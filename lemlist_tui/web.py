"""``lemlist-tui serve``: the app in a browser, through textual-serve.

textual-serve starts one app process per browser tab by running a shell command. That
command is built here from this interpreter and the account options alone: the API key
reaches the child through the environment it inherits (or its own read of the config
file), never as an argument, where any user of the machine could read it. No ``textual``
import: textual-serve is imported only when the server is about to run.
"""

from __future__ import annotations

import errno
import ipaddress
import shlex
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ServeError",
    "ServeOptions",
    "app_command",
    "is_loopback",
    "serve",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
INSTALL_HINT = "pip install 'lemlist-tui[web]'"


class ServeError(Exception):
    """The server cannot run; the message is one sentence for the command line."""


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_url: str | None = None
    """The address browsers use (default ``http://HOST:PORT``): the page points its
    websocket there, so a wildcard host or a proxy in front needs the real one."""
    app_options: tuple[str, ...] = ()
    """The account options the app in each tab runs with (``--demo``, ``--user …``)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command(app_options: Sequence[str]) -> str:
    """The shell command textual-serve runs for each browser tab."""
    return shlex.join([sys.executable, "-m", "lemlist_tui", *app_options])


def _check_port(host: str, port: int) -> None:
    """Refuse early, in one sentence, what the server would refuse after its banner.

    The socket is bound as aiohttp will bind it (address reuse on), then closed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ServeError(f"Cannot listen on {host}: {error.strerror or error}.") from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise ServeError(_bind_sentence(host, port, error)) from None


def _bind_sentence(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"Port {port} on {host} is already in use: choose another with --port."
    if error.errno == errno.EACCES:
        return f"Not allowed to listen on port {port}: choose one above 1023 with --port."
    reason = error.strerror or type(error).__name__
    return f"Cannot listen on {host}:{port}: {reason}."


def serve(options: ServeOptions) -> None:
    """Serve the app until interrupted (ctrl+c, SIGTERM). Raises ``ServeError``."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ServeError(f"serve needs textual-serve: {INSTALL_HINT}.") from None
    _check_port(options.host, options.port)
    server = Server(
        app_command(options.app_options),
        host=options.host,
        port=options.port,
        title="lemlist-tui",
        public_url=options.public_url,
    )
    sys.unraisablehook = _quiet_closed_loop
    try:
        server.serve()
    except OSError as error:  # lost the port between the check and the bind
        raise ServeError(_bind_sentence(options.host, options.port, error)) from None


def _quiet_closed_loop(unraisable: sys.UnraisableHookArgs) -> None:
    """Stopped with tabs open, textual-serve leaves their pipes to the garbage collector
    after its event loop has closed; each would print a traceback on the way out."""
    error = unraisable.exc_value
    if isinstance(error, RuntimeError) and str(error) == "Event loop is closed":
        return
    sys.__unraisablehook__(unraisable)
