"""The clients of bench/booking_race.py: the hot slots a phase's desks aim at, their counts,
and the threads that book and cancel for a fixed time, whatever a desk books through."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


class HotSlots:
    """Slot numbers 0.. in time order; clients aim at the `hot` earliest not yet seen taken."""

    def __init__(self, hot: int, limit: int | None) -> None:
        self.hot = hot
        self.limit = limit
        self.first = 0
        self.taken: set[int] = set()
        self.lock = threading.Lock()

    def pick(self, rng: random.Random) -> int | None:
        with self.lock:
            choices: list[int] = []
            n = self.first
            while len(choices) < self.hot and (self.limit is None or n < self.limit):
                if n not in self.taken:
                    choices.append(n)
                n += 1
            return rng.choice(choices) if choices else None

    def mark(self, slot: int) -> None:
        with self.lock:
            self.taken.add(slot)
            while self.first in self.taken:
                self.first += 1

    def release(self, slot: int) -> None:
        with self.lock:
            self.taken.discard(slot)
            self.first = min(self.first, slot)


@dataclass
class Tally:
    """One client's counts; merged after the phase."""

    outcomes: Counter[str] = field(default_factory=Counter)
    booking_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        self.outcomes.update(other.outcomes)
        self.booking_ms.extend(other.booking_ms)
        self.errors.extend(other.errors)


# A booking attempt: (slot number, patient id) -> (outcome, appointment or row id).
Book = Callable[[int, int], tuple[str, int | None]]
Cancel = Callable[[int], bool]
Desk = Callable[[int], tuple[Book, Cancel, Callable[[], None]]]


def hammer(
    *,
    clients: int,
    seconds: float,
    seed: int,
    cancel_share: float,
    hot: HotSlots,
    pools: list[list[int]],
    desk: Desk,
) -> tuple[Tally, float]:
    """Run `clients` threads for `seconds`; each books, and sometimes cancels its booking on
    its next turn. Returns the merged counts and the seconds the phase really took."""
    tallies = [Tally() for _ in range(clients)]
    deadline = [0.0]

    def go() -> None:  # once every client is connected and signed in
        deadline[0] = time.monotonic() + seconds

    ready = threading.Barrier(clients + 1, action=go)

    def client(n: int) -> None:
        rng = random.Random(f"{seed}:{n}")
        book, cancel, close = desk(n)
        tally = tallies[n]
        patients = pools[n]
        turn = 0
        holding: tuple[int, int] | None = None  # (slot, appointment) to cancel next turn
        ready.wait()
        while time.monotonic() < deadline[0]:
            if holding is not None:
                slot, appointment = holding
                holding = None
                try:
                    cancelled = cancel(appointment)
                except Exception as exc:  # counted and shown; a client never dies silently
                    cancelled = False
                    tally.errors.append(f"cancel: {type(exc).__name__}: {exc}")
                if cancelled:
                    tally.outcomes["cancelled"] += 1
                    hot.release(slot)
                else:
                    tally.outcomes["cancel failed"] += 1
                continue
            slot_pick = hot.pick(rng)
            if slot_pick is None:
                tally.outcomes["out of slots"] += 1
                break
            patient = patients[turn % len(patients)]
            turn += 1
            started = time.perf_counter()
            try:
                outcome, made = book(slot_pick, patient)
            except Exception as exc:  # counted and shown; a client never dies silently
                outcome, made = "error", None
                tally.errors.append(f"{type(exc).__name__}: {exc}")
            tally.booking_ms.append((time.perf_counter() - started) * 1000)
            tally.outcomes[outcome] += 1
            if outcome != "error":
                hot.mark(slot_pick)
            if outcome == "booked" and made is not None and rng.random() < cancel_share:
                holding = (slot_pick, made)
        close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - (deadline[0] - seconds)
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total, elapsed
