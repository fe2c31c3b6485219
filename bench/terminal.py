"""A real pseudo-terminal, read by a terminal emulator (pyte), driving a Textual process.

A reader thread does nothing but ``os.read`` and timestamp each chunk, so the times
measured do not include pyte's (slow, pure-Python) parsing: the screen is rebuilt from
the recorded chunks afterwards. The terminal answers Textual's query for synchronized
output (``CSI ? 2026 $ p``) as a modern terminal does, so every frame arrives wrapped in
``CSI ? 2026 h`` … ``CSI ? 2026 l`` and its end can be timed exactly.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyte

__all__ = ["KeyResult", "TerminalApp", "pump_pty", "spawn_on_pty", "vm_kb"]

SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"
FRAME_START = b"\x1b[?2026h"
FRAME_END = b"\x1b[?2026l"

KEYS: dict[str, bytes] = {
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "backspace": b"\x7f",
    "enter": b"\r",
    "ctrl+c": b"\x03",
}


def vm_kb(pid: int, field: str) -> int | None:
    """A ``/proc/<pid>/status`` memory field (``VmHWM``, ``VmRSS``) in kB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass(frozen=True, slots=True)
class KeyResult:
    """What one key press did to the screen.

    Times are read off frames whose *content* changed (text or attributes of any cell),
    so an app that repaints identical frames by itself (an animation, a blink) neither
    hides nor fakes an answer.
    """

    first_change: float | None
    """Seconds from the key's write to the end of the first frame that changed the screen."""
    settled: float | None
    """Seconds to the end of the last changing frame of the first burst (changing frames
    less than ``chain`` apart); later, separate changes (a debounced fetch) are not in it."""
    bytes: int
    """Every byte written to the terminal in the window after the key."""
    changed_bytes: int
    """Bytes of the frames that changed the screen."""
    first_change_bytes: int
    """Bytes of the first frame that changed the screen (the key's direct answer)."""
    frames: int
    changed_frames: int
    window: float
    """Seconds the answer was watched for."""
    start_index: int
    """Chunks read before the key."""
    marks: dict[str, float | None] = field(default_factory=dict)
    """For each mark asked for: seconds to the end of the first frame after the key whose
    screen satisfied it (None: none did while watched)."""

    @property
    def changed(self) -> bool:
        return self.changed_frames > 0


def spawn_on_pty(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cols: int,
    rows: int,
    cwd: Path | str | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """``argv`` in a new session on a new pty of ``cols`` x ``rows`` (``COLUMNS`` and
    ``LINES`` set to match); returns the process and the pty's master side. The one
    place the benchmarks and the tests start a program on a terminal."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    full_env = {**env, "COLUMNS": str(cols), "LINES": str(rows)}
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=cwd,
            close_fds=True,
            start_new_session=True,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return process, master


def pump_pty(
    master: int,
    process: subprocess.Popen[bytes],
    received: Callable[[bytes], bool],
    *,
    poll: float = 0.2,
) -> None:
    """Read the pty until the child closes it or ends: each chunk goes to ``received``,
    which returns False to stop reading (a reader thread's loop)."""
    while True:
        try:
            ready, _, _ = select.select([master], [], [], poll)
        except (OSError, ValueError):
            return
        if not ready:
            if process.poll() is not None:
                return
            continue
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed its side
            return
        if not data or not received(data):
            return


class TerminalApp:
    """One process on its own pty of ``cols``x``rows``."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cols: int = 120,
        rows: int = 40,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.cols, self.rows = cols, rows
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._fed = 0
        self._chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._sync_seen = False
        self._partial = b""
        """Bytes of a frame not finished yet (after the last frame end fed)."""
        self._last_frame = b""

        base = dict(os.environ if env is None else env)
        base.update({"TERM": "xterm-256color", "COLORTERM": "truecolor"})
        for noisy in ("NO_COLOR", "TEXTUAL", "TEXTUAL_DEVTOOLS_PORT", "TERM_PROGRAM"):
            base.pop(noisy, None)
        self.started = time.perf_counter()
        self.process, self._master = spawn_on_pty(argv, env=base, cols=cols, rows=rows, cwd=cwd)
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    # --- the reader thread ----------------------------------------------------------

    def _read(self) -> None:
        tail = b""

        def received(data: bytes) -> bool:
            nonlocal tail
            now = time.perf_counter()
            with self._lock:
                self._chunks.append((now, data))
            if SYNC_QUERY in tail + data:
                try:
                    os.write(self._master, SYNC_REPLY)
                except OSError:
                    return False
            tail = data[-len(SYNC_QUERY) :]
            return True

        pump_pty(self._master, self.process, received, poll=0.5)
        self._closed.set()

    # --- reading the screen -----------------------------------------------------------

    @property
    def chunk_count(self) -> int:
        with self._lock:
            return len(self._chunks)

    def chunks_since(self, index: int) -> list[tuple[float, bytes]]:
        with self._lock:
            return self._chunks[index:]

    def bytes_since(self, index: int) -> int:
        with self._lock:
            return sum(len(data) for _, data in self._chunks[index:])

    def total_bytes(self) -> int:
        with self._lock:
            return sum(len(data) for _, data in self._chunks)

    def _frames(self) -> Iterator[tuple[float, bytes]]:
        """The frames read and not fed yet, each with the time its last byte was read.

        With synchronized output a frame runs to its end mark (a chunk may hold the end
        of one frame and the start of the next); without it, each chunk is a frame.
        """
        for stamp, chunk in self.chunks_since(self._fed):
            self._fed += 1
            if not self._synchronized:
                yield stamp, chunk
                continue
            *complete, self._partial = (self._partial + chunk).split(FRAME_END)
            for frame in complete:
                yield stamp, frame + FRAME_END

    def _apply(self, frame: bytes) -> bool:
        """Feed one frame to the emulator; False when it repeats the previous one.

        Textual writes every line of a frame at an absolute position, so the same frame
        twice in a row leaves the screen as once: an idle repaint (an animation under
        the visible screen) need not be emulated again, which keeps pyte's pure-Python
        parser off the clock of a noisy app.
        """
        if frame == self._last_frame:
            return False
        self._last_frame = frame
        self._stream.feed(frame)
        return True

    def sync(self) -> list[str]:
        """Feed the emulator every whole frame read so far; return the screen's lines."""
        for _, frame in self._frames():
            self._apply(frame)
        return self.screen.display

    def snapshot(self) -> tuple[object, ...]:
        """Every cell's text and attributes, after feeding the emulator all read so far."""
        self.sync()
        return self._cells()

    def _cells(self) -> tuple[object, ...]:
        buffer = self.screen.buffer
        return tuple(
            tuple((c.data, c.fg, c.bg, c.bold, c.reverse) for c in buffer[y].values())
            for y in range(self.rows)
        )

    @property
    def _synchronized(self) -> bool:
        """The app wraps its frames in synchronized-output marks (it saw our answer)."""
        if not self._sync_seen:
            with self._lock:
                self._sync_seen = any(FRAME_END in data for _, data in self._chunks)
        return self._sync_seen

    def wait_for(self, found: Callable[[list[str]], bool], timeout: float = 30.0) -> float | None:
        """Seconds from spawn to the end of the frame after which ``found(screen)`` holds.

        Frames are emulated as they come but timed by when their last byte was read, so
        the emulation does not count.
        """
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            fed = False
            for stamp, frame in self._frames():
                fed = True
                if self._apply(frame) and found(self.screen.display):
                    return stamp - self.started
            if not fed:
                if self._closed.is_set() and self._fed >= self.chunk_count:
                    return None
                time.sleep(0.001)
        return None

    def wait_frame(self, timeout: float) -> bool:
        """Wait for the end of the next frame (e.g. a cursor blink); False on timeout."""
        index = self.chunk_count
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if any(FRAME_END in data for _, data in self.chunks_since(index)):
                return True
            time.sleep(0.002)
        return False

    def wait_quiet(self, quiet: float = 0.2, timeout: float = 10.0) -> bool:
        """Wait until nothing has been written for ``quiet`` seconds."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self._lock:
                last = self._chunks[-1][0] if self._chunks else self.started
            if time.perf_counter() - last >= quiet:
                return True
            time.sleep(0.005)
        return False

    # --- typing ----------------------------------------------------------------------

    def write(self, data: bytes | str) -> None:
        os.write(self._master, data.encode() if isinstance(data, str) else data)

    def press(
        self,
        key: str | bytes,
        *,
        tail: float = 0.35,
        window: float = 1.0,
        chain: float = 0.1,
        max_wait: float = 5.0,
        marks: Mapping[str, Callable[[list[str]], bool]] | None = None,
    ) -> KeyResult:
        """Send one key; watch the output until ``tail`` s of quiet or ``window`` s.

        The recorded frames are then replayed into the emulator one at a time to find
        which of them changed the screen; until one has, it keeps watching (up to
        ``max_wait`` s), so a slow answer is measured rather than lost. ``marks`` are
        tests of the screen (e.g. "the status line shows the exact count"): each is timed
        at the first changing frame that satisfies it, and the watch goes on (up to
        ``max_wait``) until every mark is met.
        """
        marks = marks or {}
        met: dict[str, float] = {}
        data = key if isinstance(key, bytes) else KEYS.get(key, key.encode())
        self._wait_frame_boundary()
        previous = self.snapshot()
        index = self.chunk_count
        sent = time.perf_counter()
        os.write(self._master, data)
        changes: list[tuple[float, int]] = []
        frames = 0
        watch_from = sent
        while True:
            while True:
                now = time.perf_counter()
                pending = self.chunks_since(index)
                last = max(pending[-1][0] if pending else sent, watch_from)
                if now - last >= tail or now - watch_from >= window:
                    break
                time.sleep(0.002)
            for stamp, frame in self._frames():
                frames += 1
                if not self._apply(frame):
                    continue
                current = self._cells()
                if stamp < sent:
                    # Finished before the key was written (read between the snapshot and
                    # the write): part of the screen the key found, not of its answer.
                    previous = current
                    continue
                if current != previous:
                    changes.append((stamp - sent, len(frame)))
                    previous = current
                    if len(met) < len(marks):
                        lines = self.screen.display
                        for name, test in marks.items():
                            if name not in met and test(lines):
                                met[name] = stamp - sent
            now = time.perf_counter()
            if now - sent >= max_wait:
                break
            # No change yet: a slow answer is not a missing one, keep watching. A change
            # right at the end of the watch: watch on for the rest of its burst.
            if changes and now - (sent + changes[-1][0]) >= tail and len(met) == len(marks):
                break
            watch_from = now
        watched = time.perf_counter() - sent
        written = self.bytes_since(index)
        settled = changes[0][0] if changes else None
        for at, _ in changes[1:]:
            if settled is not None and at - settled > chain:
                break
            settled = at
        return KeyResult(
            first_change=changes[0][0] if changes else None,
            settled=settled,
            bytes=written,
            changed_bytes=sum(size for _, size in changes),
            first_change_bytes=changes[0][1] if changes else 0,
            frames=frames,
            changed_frames=len(changes),
            window=watched,
            start_index=index,
            marks={name: met.get(name) for name in marks},
        )

    def _wait_frame_boundary(self, timeout: float = 0.2) -> None:
        """Let a frame being written finish, so the screen before a key is a whole frame."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self._lock:
                tail = b"".join(data for _, data in self._chunks[-4:])
            if tail.rfind(FRAME_START) <= tail.rfind(FRAME_END):
                return
            time.sleep(0.001)

    def idle(self, seconds: float) -> tuple[int, int]:
        """Bytes and frames written while nothing is sent for ``seconds``."""
        index = self.chunk_count
        time.sleep(seconds)
        chunks = self.chunks_since(index)
        return sum(len(c) for _, c in chunks), sum(c.count(FRAME_END) for _, c in chunks)

    def text(self) -> str:
        return "\n".join(self.sync())

    def peak_rss_mb(self) -> float | None:
        kb = vm_kb(self.process.pid, "VmHWM")
        return None if kb is None else kb / 1024

    # --- ending ----------------------------------------------------------------------

    def close(self, timeout: float = 3.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        self._closed.wait(timeout)
        with contextlib.suppress(OSError):
            os.close(self._master)

    def __enter__(self) -> TerminalApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def python_argv(*args: str) -> list[str]:
    """This interpreter, unbuffered, with the arguments."""
    return [sys.executable, *args]
