"""A payer's catastrophic member-ID pattern, `(A+)+B`, checked with RE2 and with Python's `re`.

    .venv/bin/python bench/member_id_pattern.py

Goal (from the security review): a catastrophic pattern answers in milliseconds; here, the
member-ID check (`lib.patterns.pattern_fullmatch`, what the coverage form calls) at most 1 ms
for a 50-character ID, and RE2 itself at most 10 ms on a 5,000-character text (the check bounds
its input at 100 characters, so this is RE2 alone, to show the time stays linear).

What it does:

- RE2: each length (30, 50 and 5,000 letters A, none matching) is checked 1,000 times after a
  warm-up (100 times for 5,000); the median of five such rounds per check is printed.
- Python's `re` (the baseline, what Frontdesk used before): each check runs in a child
  process with a 20 s timeout, since one that does not end holds the interpreter lock and
  cannot be stopped from inside. Lengths 16 to 22 are measured; 30 and 50 are not run, and
  their times are extrapolated from the growth per letter measured between 16 and 22.
- The ratio is Python's `re` at 22 letters (the longest measured) over the RE2 check at 50.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from frontdesk.lib import patterns  # noqa: E402 (after the path is set)

PATTERN = "(A+)+B"
RE2_LENGTHS = (30, 50, 5000)
RE_LENGTHS = (16, 18, 20, 22)
RE_TIMEOUT_S = 20.0
GOAL_CHECK_MS = 1.0  # the member-ID check at 50 letters
GOAL_LONG_MS = 10.0  # RE2 itself at 5,000 letters


def re2_ms(length: int, *, bounded: bool) -> float:
    """Median milliseconds per check: `pattern_fullmatch` (bounded) or RE2 itself."""
    text = "A" * length
    compiled = patterns._compiled(PATTERN)
    check = (
        (lambda: patterns.pattern_fullmatch(PATTERN, text))
        if bounded
        else (lambda: compiled.fullmatch(text))
    )
    repeat = 100 if length > 1000 else 1000
    check()
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            check()
        rounds.append((time.perf_counter() - started) * 1000 / repeat)
    return statistics.median(rounds)


def re_ms(length: int) -> float | None:
    """Milliseconds for one `re.fullmatch` in a child process, or None past the timeout."""
    code = (
        "import re, time\n"
        f"text = 'A' * {length}\n"
        "started = time.perf_counter()\n"
        f"re.fullmatch({PATTERN!r}, text)\n"
        "print((time.perf_counter() - started) * 1000)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=RE_TIMEOUT_S,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.strip())


def main() -> None:
    print(f"pattern {PATTERN}; ID of letters A only (never matches); load average ", end="")
    print("{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("RE2 (linear time):")
    check_ms = {}
    for length in RE2_LENGTHS:
        check_ms[length] = re2_ms(length, bounded=True)
        raw = re2_ms(length, bounded=False)
        print(
            f"  {length:>5} letters: check {check_ms[length]:.4f} ms, RE2 itself {raw:.4f} ms"
            + (" (the check refuses text over 100 letters at once)" if length > 100 else "")
        )
    long_ms = re2_ms(5000, bounded=False)
    print("Python re (backtracking; each in a child process):")
    measured: dict[int, float] = {}
    for length in RE_LENGTHS:
        took = re_ms(length)
        if took is None:
            print(f"  {length:>5} letters: no answer within {RE_TIMEOUT_S:.0f} s")
            break
        measured[length] = took
        print(f"  {length:>5} letters: {took:.1f} ms")
    first_length, last_length = min(measured), max(measured)
    last_ms = measured[last_length]
    growth = (last_ms / measured[first_length]) ** (1 / max(last_length - first_length, 1))
    for length in (30, 50):
        seconds = last_ms * growth ** (length - last_length) / 1000
        print(
            f"  {length:>5} letters: about {seconds:,.0f} s "
            f"(extrapolated at x{growth:.2f} a letter, not run)"
        )
    ratio = last_ms / check_ms[50] if check_ms[50] else float("inf")
    met = check_ms[50] <= GOAL_CHECK_MS and long_ms <= GOAL_LONG_MS
    print(
        f"bench member_id_pattern: {check_ms[50]:.4f} ms a check at 50 letters "
        f"({ratio:,.0f}x vs Python re at {last_length} letters); "
        f"goal <= {GOAL_CHECK_MS:.0f} ms at 50 and <= {GOAL_LONG_MS:.0f} ms for RE2 at 5000: "
        f"{'met' if met else 'missed'}"
    )


if __name__ == "__main__":
    main()
