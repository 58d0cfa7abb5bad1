from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from frontdesk.lib.env import env_bool, env_int, env_list, env_minutes, env_time_zone


def test_it_reads_typed_values() -> None:
    assert env_int("N", 3, environ={"N": "12"}) == 12
    assert env_bool("B", False, environ={"B": "yes"}) is True
    assert env_minutes("M", 15, environ={}).total_seconds() == 900
    assert env_list("L", ["a"], environ={"L": "x, y"}) == ["x", "y"]
    assert env_time_zone("TZ", "UTC", environ={"TZ": "Europe/London"}) == "Europe/London"


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (
            lambda e: env_int("SESSION_IDLE_MINUTES", 15, minimum=1, environ=e),
            "ten",
            "whole number",
        ),
        (lambda e: env_minutes("SESSION_IDLE_MINUTES", 15, environ=e), "0", "at least 1"),
        (lambda e: env_bool("EMAIL_USE_TLS", False, environ=e), "maybe", "true or false"),
        (lambda e: env_time_zone("CLINIC_TIME_ZONE", "UTC", environ=e), "Mars/Base", "IANA"),
        (lambda e: env_list("ALLOWED_HOSTS", [], environ=e), "a,,b", "no empty entries"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_named(
    reader: object, value: str, message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message) as caught:
        reader(
            {
                "SESSION_IDLE_MINUTES": value,
                "EMAIL_USE_TLS": value,  # type: ignore[operator]
                "CLINIC_TIME_ZONE": value,
                "ALLOWED_HOSTS": value,
            }
        )
    assert any(
        name in str(caught.value)
        for name in ("SESSION_IDLE_MINUTES", "EMAIL_USE_TLS", "CLINIC_TIME_ZONE", "ALLOWED_HOSTS")
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/clinic"),
        ("SESSION_IDLE_MINUTES", "soon"),
        ("CLINIC_TIME_ZONE", "Nowhere/Special"),
        ("REDIS_URL", "localhost:6379"),
        ("SECRET_KEY", "short"),
        ("EMAIL_PORT", "99999"),
    ],
)
def test_start_up_stops_on_a_bad_setting_naming_the_variable(variable: str, value: str) -> None:
    env = {**os.environ, variable: value, "DJANGO_SETTINGS_MODULE": "frontdesk.settings"}
    result = subprocess.run(
        [sys.executable, "-m", "frontdesk", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert variable in result.stderr


def test_every_environment_variable_is_documented_in_env_example() -> None:
    import re
    from pathlib import Path

    import frontdesk.settings as settings_module

    source = Path(settings_module.__file__).read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', source))
    documented = set(
        re.findall(r"^([A-Z_]+)=", (settings_module.BASE_DIR / ".env.example").read_text(), re.M)
    )
    assert read, "settings.py reads no variables?"
    assert read - documented == set(), f"undocumented: {sorted(read - documented)}"
