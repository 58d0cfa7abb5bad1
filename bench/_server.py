"""The real server for benches that measure over HTTP: `python -m frontdesk.wsgi` (waitress) on a
free loopback port, one process or several sharing the port (as `python -m frontdesk.serve
--processes N` starts them), ready once /healthz answers."""

from __future__ import annotations

import ctypes
import http.client
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BIN = Path(sys.executable).parent  # the virtualenv running the bench


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the server's process: end it if this bench process dies, even by a crash that skips
    the `finally` that stops it (Linux; elsewhere the server must be stopped by hand)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Server:
    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        processes: int = 1,
        entry: Sequence[str] = ("-m", "frontdesk.wsgi"),
    ) -> None:
        """`entry`: what the virtualenv's python runs, given `--port`: the server's module, or
        a bench's own script that changes one thing and then runs it."""
        self.port = free_port()
        self.log = log_path.open("w")
        command = [str(BIN / "python"), *entry, "--port", str(self.port)]
        if processes > 1:
            command.append("--reuse-port")
        self.processes = [
            subprocess.Popen(
                command,
                env=env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
            for _ in range(processes)
        ]
        self.pids = {process.pid for process in self.processes}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.processes):
                raise SystemExit(f"the server exited; see {log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not answer in 60 s; see {log_path}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.log.close()
