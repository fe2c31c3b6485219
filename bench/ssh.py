"""Figure: bytes per cursor move over a real SSH link, beside a bare ``DataTable``.

A private ``sshd`` on a loopback port (:mod:`bench.sshd`); ``ssh -tt`` runs the app
there (``lemlist-tui --demo``, the first user's inbox) and, in a second session, a bare
``DataTable`` of 2,000 rows shaped like the list's (:mod:`bench.anchor_apps`). The client
runs on a 120x40 pty read by pyte (:mod:`bench.terminal`), so every frame crosses the
link before it is counted. Each ``j`` (``↓`` for the DataTable) is measured twice:

* at the terminal: the bytes ssh's client writes to its pty until 0.35 s of quiet (what
  the app wrote, as the person's terminal receives it);
* on the wire: the bytes sshd sends, counted by a relay between client and server (ssh's
  encrypted packets, MACs and padding included; no compression, ssh's default).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.common import Bench, Unavailable
from bench.prepare import REPO
from bench.report import Figure, Row, median
from bench.sshd import LoopbackSshd, SshdUnavailable, missing, remote_command
from bench.terminal import TerminalApp

__all__ = ["Relay", "run_figures"]

COLS, LINES = 120, 40
SETTLE = 0.35
DEMO_SIZE = 2_000
TITLE = "Bytes per cursor move over ssh -tt (loopback sshd) at 120x40"


class Relay:
    """A TCP relay on 127.0.0.1 in front of ``port`` that counts the bytes each way."""

    def __init__(self, port: int) -> None:
        self._target = port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._down = 0
        self._up = 0
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="ssh-relay", daemon=True).start()

    @property
    def down(self) -> int:
        """Bytes the server has sent to clients so far."""
        with self._lock:
            return self._down

    @property
    def up(self) -> int:
        with self._lock:
            return self._up

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._target))
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, down: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(1 << 16):
                with self._lock:
                    if down:
                        self._down += len(data)
                    else:
                        self._up += len(data)
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in (self._listener, *self._sockets):
            with contextlib.suppress(OSError):
                sock.close()


@dataclass(slots=True)
class Moves:
    """One app's cursor moves over the link."""

    terminal: list[int] = field(default_factory=list)
    wire_down: list[int] = field(default_factory=list)
    wire_up: list[int] = field(default_factory=list)
    idle_wire_per_s: float | None = None
    shown_s: float | None = None


def _rows_file(bench: Bench) -> tuple[Path, str]:
    """The DataTable's rows, shaped like the list's, and a text its first screen shows."""
    path = bench.scratch / "ssh-table-rows.json"
    rows = [
        ["●" if i % 5 == 0 else " ", f"Contact {i:05d}", f"contact{i}@example.com", "mail",
         f"{i % 59 + 1}m", "↩", ""]
        for i in range(2000)
    ]  # fmt: skip
    columns = ["", "name", "email", "channels", "activity", "", "$"]
    path.write_bytes(orjson.dumps({"columns": columns, "rows": rows}))
    return path, "Contact 00000"


def _inbox_shown(lines: list[str]) -> bool:
    return any(" unread of " in line for line in lines) and not any(
        "loading" in line for line in lines
    )


def _at_rest(lines: list[str]) -> bool:
    """The inbox is whole: no page of it still coming."""
    return _inbox_shown(lines) and not any("syncing" in line for line in lines)


def _session(
    sshd: LoopbackSshd,
    relay: Relay,
    argv: list[str],
    env: dict[str, str],
    key: str,
    moves: int,
    ready: Callable[[TerminalApp], float | None],
) -> Moves:
    result = Moves()
    command = sshd.ssh_argv(remote_command(argv, env), port=relay.port)
    with TerminalApp(command, cols=COLS, rows=LINES, cwd=REPO) as term:
        result.shown_s = ready(term)
        if result.shown_s is None:
            raise Unavailable(f"nothing drawn over ssh: {term.text()[-400:]!r} {sshd.log()}")
        # At rest first: the demo's inbox is still fetched for a few seconds after its
        # first page shows (20 pages at lemlist's rate, with a quiet second between
        # them at times; then the progress bar goes), and that is not idling.
        term.wait_for(_at_rest, 30)
        term.wait_quiet(1.0, timeout=15.0)
        before = relay.down
        term.idle(1.0)
        result.idle_wire_per_s = float(relay.down - before)
        for _ in range(moves):
            down, up = relay.down, relay.up
            press = term.press(key, tail=SETTLE)
            result.terminal.append(press.bytes)
            result.wire_down.append(relay.down - down)
            result.wire_up.append(relay.up - up)
        term.write("q")
    return result


@contextlib.contextmanager
def _link(bench: Bench) -> Iterator[tuple[LoopbackSshd, Relay]]:
    try:
        sshd = LoopbackSshd(bench.scratch / "sshd")
    except SshdUnavailable as why:
        raise Unavailable(str(why)) from None
    relay = Relay(sshd.port)
    try:
        yield sshd, relay
    finally:
        relay.close()
        sshd.stop()


def run_figures(bench: Bench, names: list[str]) -> list[Figure]:
    why = missing()
    if why is not None:
        raise Unavailable(why)
    if bench.quick:
        raise Unavailable(
            "skipped in quick mode (two app sessions over ssh: too slow for CI); "
            "python -m bench --only ssh_bytes measures it"
        )
    moves = 40
    home = bench.scratch / "ssh-home"
    env = {
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "PYTHONPATH": str(REPO),
    }
    rows_path, needle = _rows_file(bench)
    app = [sys.executable, "-m", "lemlist_tui", "--demo", "--demo-size", str(DEMO_SIZE)]
    table = [sys.executable, "-m", "bench.anchor_apps", "table", str(rows_path)]

    def app_ready(term: TerminalApp) -> float | None:
        if term.wait_for(lambda s: any("Whose inbox" in line for line in s), 60) is None:
            return None
        term.wait_quiet(0.3, timeout=2.0)
        term.write("\r")  # the picker's first user
        return term.wait_for(_inbox_shown, 60)

    def table_ready(term: TerminalApp) -> float | None:
        return term.wait_for(lambda s: any(needle in line for line in s), 60)

    with _link(bench) as (sshd, relay):
        bench.log(f"ssh: the app over ssh -tt, {moves} x j")
        ours = _session(sshd, relay, app, env, "j", moves, app_ready)
        bench.log(f"ssh: a bare DataTable over ssh -tt, {moves} x down")
        theirs = _session(sshd, relay, table, env, "down", moves, table_ready)
    return [_figure(ours, theirs)]


def _row(label: str, ours: list[int], theirs: list[int], detail: dict[str, Any]) -> Row:
    mine = median(ours) if ours else None
    table = median(theirs) if theirs else None
    return Row(
        label=label,
        ours=mine,
        unit="B",
        anchors={"DataTable (2,000 rows), same link": table},
        ratio=None if mine is None or not table else mine / table,
        target=None,  # the detail pane's work; here the figure is reported, not judged
        detail={"ours": ours, "datatable": theirs, **detail},
    )


def _figure(ours: Moves, theirs: Moves) -> Figure:
    figure = Figure("ssh_bytes", TITLE)
    figure.rows.append(
        _row("bytes per cursor move j over ssh, at the terminal (median)", ours.terminal,
             theirs.terminal, {"demo_size": DEMO_SIZE})
    )  # fmt: skip
    figure.rows.append(
        _row("(extra) bytes per j on the wire, sshd → client (median)", ours.wire_down,
             theirs.wire_down, {"up": ours.wire_up, "datatable_up": theirs.wire_up})
    )  # fmt: skip
    figure.rows.append(
        Row(
            label="(extra) wire bytes per second while idle, nothing pressed",
            ours=ours.idle_wire_per_s,
            unit="B/s",
            anchors={"DataTable (2,000 rows), same link": theirs.idle_wire_per_s},
            detail={"ours_shown_s": ours.shown_s, "datatable_shown_s": theirs.shown_s},
        )
    )
    return figure
