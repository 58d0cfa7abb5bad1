from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import django
django.setup()
from huey.contrib.djhuey import HUEY
print(type(HUEY).__name__, HUEY.immediate, getattr(HUEY.storage, "filename", ""))
if type(HUEY).__name__ == "RedisHuey":
    print("redis answers", HUEY.storage.conn.ping())
"""


def run_probe(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "frontdesk.settings",
        "FRONTDESK_VAR_DIR": str(tmp_path),
        "REDIS_URL": "",
        **variables,
    }
    return subprocess.run(  # noqa: S603 - a fixed script run by this interpreter
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_queue_is_an_sqlite_file_under_var_unless_redis_is_configured(tmp_path: Path) -> None:
    result = run_probe(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["SqliteHuey", "False", str(tmp_path / "queue.sqlite3")]


def test_the_queue_is_redis_when_redis_url_is_set(tmp_path: Path) -> None:
    result = run_probe(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["RedisHuey False ", "redis answers True"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SMS_PROVIDER_URL", "sms.example.com/send"),
        ("PUBLIC_BASE_URL", "clinic.example.com"),
        ("PATIENT_LINK_MAX_AGE_HOURS", "0"),
        ("WORKER_THREADS", "many"),
    ],
)
def test_a_bad_messaging_setting_stops_start_up_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = run_probe(tmp_path, **{variable: value})

    assert result.returncode != 0
    assert variable in result.stderr
