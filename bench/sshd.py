"""A private OpenSSH server on a free loopback port, for the SSH test and the SSH figure.

Its own host key, client key and config in a scratch folder; started with ``-D -e`` (in
the foreground, logging to its stderr) and stopped by whoever started it. Nothing of the
machine's own sshd is used or touched, bar ``/run/sshd``, which OpenSSH insists on.

    with LoopbackSshd(folder) as sshd:
        argv = sshd.ssh_argv(shlex.join([...the remote command...]))
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "SSH",
    "SSHD",
    "LoopbackSshd",
    "SshdUnavailable",
    "free_port",
    "missing",
    "remote_command",
]

SSHD = Path("/usr/sbin/sshd")
SSH = "ssh"
PRIVSEP_DIR = Path("/run/sshd")


class SshdUnavailable(Exception):
    """No OpenSSH server or client here, or it could not start; the message says which."""


def free_port() -> int:
    """A loopback port free a moment ago (bound to port 0, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def missing() -> str | None:
    """Why an SSH session cannot be had here, or None."""
    if not SSHD.exists():
        return f"{SSHD} is absent (Debian: apt-get install openssh-server)"
    if shutil.which(SSH) is None:
        return "no ssh client on PATH (Debian: apt-get install openssh-client)"
    return None


def remote_command(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """One string for the remote login shell: ``env K=V … argv``, every word quoted."""
    return shlex.join(["env", *(f"{k}={v}" for k, v in env.items()), *argv])


class LoopbackSshd:
    """``/usr/sbin/sshd -D -e -f CONFIG`` on 127.0.0.1, accepting one generated key."""

    def __init__(self, folder: Path, *, timeout: float = 10.0) -> None:
        why = missing()
        if why is not None:
            raise SshdUnavailable(why)
        self.folder = folder
        self.port = free_port()
        self.user = getpass.getuser()
        self.client_key = folder / "client_key"
        self._log = folder / "sshd.log"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        except OSError as error:
            raise SshdUnavailable(f"sshd needs {PRIVSEP_DIR}: {error.strerror}") from None
        host_key = folder / "host_key"
        for key in (host_key, self.client_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key)],
                check=True,
                stdin=subprocess.DEVNULL,
            )
        authorized = folder / "authorized_keys"
        authorized.write_text(self.client_key.with_suffix(".pub").read_text())
        config = folder / "sshd_config"
        config.write_text(
            f"""\
ListenAddress 127.0.0.1
Port {self.port}
HostKey {host_key}
AuthorizedKeysFile {authorized}
PidFile {folder / "sshd.pid"}
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers {self.user}
PrintMotd no
PrintLastLog no
Compression no
LogLevel ERROR
"""
        )
        with self._log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self._wait_listening(timeout)

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SshdUnavailable(f"sshd exited at start: {self.log().strip()[-300:]}")
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.2)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)  # polling the port against a deadline
        self.stop()
        raise SshdUnavailable(f"sshd did not listen on port {self.port} within {timeout:.0f} s")

    def ssh_argv(self, command: str, *, tty: bool = True, port: int | None = None) -> list[str]:
        """The client: no user config, no known-hosts file, only this key (``port``: a
        relay in front of this server instead of the server itself)."""
        return [
            SSH,
            *(["-tt"] if tty else ["-T"]),
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "IdentitiesOnly=yes",
            "-i",
            str(self.client_key),
            "-p",
            str(self.port if port is None else port),
            f"{self.user}@127.0.0.1",
            command,
        ]

    def log(self) -> str:
        try:
            return self._log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        """The listener and every session it forked (one process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)

    def __enter__(self) -> LoopbackSshd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
