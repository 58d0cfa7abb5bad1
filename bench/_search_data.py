"""The databases of bench/patient_search.py: the scratch PostgreSQL or SQLite database filled
with the demo, and a thin DB-API layer for sampling and the raw baseline."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CREDENTIALS_DIR = ROOT / "var" / "bench"


@dataclass
class Target:
    """A patient a query is drawn from, with what verification needs."""

    id: int
    mrn: str
    family_name: str
    given_name: str
    preferred_name: str
    family_norm: str
    given_norm: str
    preferred_norm: str
    birth_date: str  # ISO
    phone: str
    phone_alt: str


TARGET_COLUMNS = (
    "id, mrn, family_name, given_name, preferred_name, family_norm, given_norm, "
    "preferred_norm, birth_date, phone, phone_alt"
)


class Database:
    """One connection through psycopg or sqlite3, with the vendor's placeholder style."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.vendor = "sqlite" if url.startswith("sqlite") else "postgresql"
        self.conn: Any
        if self.vendor == "sqlite":
            self.conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        else:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)

    def sql(self, text: str) -> str:
        return text.replace("%s", "?") if self.vendor == "sqlite" else text

    def rows(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.execute(self.sql(text), params)
        return list(cursor.fetchall())

    def execute(self, text: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(self.sql(text), params)

    def close(self) -> None:
        self.conn.close()


def sqlite_path(url: str) -> str:
    # sqlite:////tmp/x.sqlite3 -> /tmp/x.sqlite3 (dj-database-url's form)
    return urllib.parse.urlparse(url).path


def pg_admin_url(url: str) -> str:
    parts = urllib.parse.urlparse(url)
    return urllib.parse.urlunparse(parts._replace(path="/postgres"))


def pg_database_name(url: str) -> str:
    return urllib.parse.urlparse(url).path.lstrip("/")


def pg_database_exists(url: str) -> bool:
    import psycopg

    with psycopg.connect(pg_admin_url(url), autocommit=True) as admin:
        found = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (pg_database_name(url),)
        ).fetchone()
    return found is not None


def pg_create_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_admin_url(url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(pg_database_name(url))))


def pg_drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_admin_url(url), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(pg_database_name(url))
            )
        )


def frontdesk(url: str, *args: str, quiet: bool = False) -> str:
    """Run the frontdesk command against this database; its stdout (progress goes to stderr)."""
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run(
        [str(BIN / "frontdesk"), *args],
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
    )
    return result.stdout


def credentials_path(url: str) -> Path:
    """Where the demo's staff sign-ins for this database are kept (var/ is not committed)."""
    if url.startswith("sqlite"):
        name = "sqlite-" + Path(sqlite_path(url)).stem
    else:
        name = pg_database_name(url)
    return CREDENTIALS_DIR / f"{name}.credentials"


@dataclass(frozen=True)
class DemoDatabase:
    url: str
    password: str  # the front_desk user's
    created: bool
    build_seconds: float


def demo_database_ready(url: str, patients: int, *, scratch: bool) -> DemoDatabase:
    """Create (if scratch and missing), migrate and load the demo; reuse a loaded one."""
    created = False
    if url.startswith("sqlite"):
        created = not Path(sqlite_path(url)).exists()
    elif scratch and not pg_database_exists(url):
        pg_create_database(url)
        created = True
    started = time.monotonic()
    frontdesk(url, "migrate", "--noinput", "-v", "0")
    frontdesk(url, "collectstatic", "--noinput", "-v", "0")
    credentials = credentials_path(url)
    out = frontdesk(url, "demo", "--patients", str(patients), "--credentials", str(credentials))
    elapsed = time.monotonic() - started
    first = out.splitlines()[0] if out else ""
    print(f"  demo: {first}")
    password = ""
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "front_desk":
            password = parts[2]
    if not password:
        raise SystemExit("The demo printed no front_desk sign-in; is this a demo database?")
    return DemoDatabase(url, password, created or "Built the demo" in first, elapsed)
