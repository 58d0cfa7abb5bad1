"""`python -m frontdesk.serve`: the web server and the background worker as one command (what
`make run` starts), both stopped by one Ctrl-C.

The two run as child processes in their own process groups, so the terminal's Ctrl-C reaches
this process only, which hands it to each child once. SIGINT or SIGTERM stops both; a child
that does not stop within `STOP_SECONDS` is killed. If either child stops by itself, the other
is stopped too, the exit status is non-zero and the message names which one stopped. No Django
here: the children load it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

STOP_SECONDS = 10.0
POLL_SECONDS = 0.2


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def _simulated_payer() -> list[tuple[str, list[str]]]:
    """With FRONTDESK_PAYER_SIMULATOR=1 the PAYER SIMULATOR runs beside the server (the demo
    clinic's eligibility checks go to it); never by default."""
    if os.environ.get("FRONTDESK_PAYER_SIMULATOR", "").strip().lower() not in {"1", "true", "yes"}:
        return []
    return [("payer simulator", [sys.executable, "-m", "frontdesk", "payer-simulator"])]


def _commands(host: str, port: int, processes: int) -> list[tuple[str, list[str]]]:
    python = sys.executable
    server = [python, "-m", "frontdesk.wsgi", "--host", host, "--port", str(port)]
    if processes == 1:
        return [
            *_simulated_payer(),
            ("worker", [python, "-m", "frontdesk", "worker"]),
            ("server", server),
        ]
    # Several server processes on one port: the kernel spreads connections over them.
    servers = [(f"server {n + 1}", [*server, "--reuse-port"]) for n in range(processes)]
    return [*_simulated_payer(), ("worker", [python, "-m", "frontdesk", "worker"]), *servers]


class _Stop(Exception):  # noqa: N818 - a signal's arrival, not an error
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signum)


def _say(words: str) -> None:
    print(f"frontdesk: {words}", file=sys.stderr, flush=True)


def _stop_all(children: Sequence[Child], signum: int) -> None:
    """Send `signum` to each child still running, wait, then kill what is left."""
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signum)
    deadline = time.monotonic() + STOP_SECONDS
    for child in children:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"the {child.name} did not stop within {STOP_SECONDS:.0f} s; killing it.")
            child.process.kill()
            child.process.wait()


def serve(*, host: str, port: int, processes: int = 1) -> int:
    """Run the worker and the server until a signal or until one of them stops; the exit
    status: 0 after a signal, else the stopped child's status (1 if that was 0, 128 + the
    signal if it was killed)."""
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    children: list[Child] = []
    try:
        for name, command in _commands(host, port, processes):
            # Its own process group: the terminal's Ctrl-C is ours to hand on, once.
            # The commands are fixed (this interpreter, our modules), never from input.
            process = subprocess.Popen(command, process_group=0)  # noqa: S603
            children.append(Child(name, process))
        _say(
            f"serving on http://{host}:{port}/ with the background worker beside it "
            "(Ctrl-C stops both)."
        )
        while True:
            for child in children:
                code = child.process.poll()
                if code is not None:
                    how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
                    _say(f"the {child.name} stopped by itself ({how}); stopping the rest.")
                    _stop_all(children, signal.SIGTERM)
                    # As a shell says it: 128 + the signal for a killed process; never 0.
                    return 128 - code if code < 0 else code or 1
            time.sleep(POLL_SECONDS)
    except _Stop as stop:
        # Ignore further signals while the children stop, so none is left behind.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        _say("stopping the server and the worker.")
        _stop_all(children, signal.SIGINT if stop.signum == signal.SIGINT else signal.SIGTERM)
        _say("stopped.")
        return 0
    finally:
        for child in children:
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait()
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m frontdesk.serve",
        description="Serve Frontdesk and run its background worker; Ctrl-C stops both.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        choices=range(1, 65),
        metavar="N",
        help="server processes sharing the port (one per core uses every core); default 1",
    )
    options = parser.parse_args(argv)
    return serve(host=options.host, port=options.port, processes=options.processes)


if __name__ == "__main__":
    sys.exit(main())
