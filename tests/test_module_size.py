"""No module of Frontdesk outside tests and migrations grows past 800 lines: a module that
big mixes jobs, and is split by job instead (as `patients/matching/` and `eligibility/`).
The bench scripts are held to the same size (split into private `bench/_*.py` helpers)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "frontdesk"
BENCH = ROOT / "bench"
MOST_LINES = 800


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _modules() -> list[Path]:
    return sorted(
        p
        for p in SOURCE.rglob("*.py")
        if not {"tests", "migrations"} & set(p.relative_to(SOURCE).parts)
    )


def _bench_modules() -> list[Path]:
    return sorted(BENCH.glob("*.py"))


def test_it_finds_the_modules_it_measures() -> None:
    names = {p.relative_to(SOURCE).as_posix() for p in _modules()}
    assert "settings.py" in names
    assert "patients/matching/verdict.py" in names
    assert not any("/tests/" in n or "/migrations/" in n for n in names)


def test_it_finds_the_bench_scripts_it_measures() -> None:
    names = {p.name for p in _bench_modules()}
    assert {"booking_race.py", "patient_search.py", "_server.py"} <= names


def test_no_module_outside_tests_and_migrations_is_over_800_lines() -> None:
    too_long = {
        p.relative_to(SOURCE).as_posix(): lines
        for p in _modules()
        if (lines := _lines(p)) > MOST_LINES
    }
    assert too_long == {}, f"split by job, each module at most {MOST_LINES} lines: {too_long}"


def test_no_bench_script_is_over_800_lines() -> None:
    too_long = {p.name: lines for p in _bench_modules() if (lines := _lines(p)) > MOST_LINES}
    assert too_long == {}, f"split by job into bench/_*.py, each at most {MOST_LINES}: {too_long}"
