"""The migrated test database, kept as a template so a test process starts from a copy.

Migrating from nothing costs a test process about 15 s of one core (Django renders the models'
state for every operation of every migration), and a `make test` starts five such processes.
What the migrations build depends only on what they run, so the first process to need it builds
it as Django always does and keeps a copy named after a hash of that (migrations_key); a later
process (the other worker, the browser run, the next run) copies it: an SQLite file under var/,
or CREATE DATABASE ... TEMPLATE on PostgreSQL, about a second. Django's own `migrate` still runs
on the copy (keepdb), finds nothing to apply and sends post_migrate as usual. Any change to a
migration, to a project module one imports or to a pinned requirement names another template.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import django
from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connection

T = TypeVar("T")
PREFIX = "frontdesk_test_template_"


def _project_modules_imported(paths: list[Path]) -> list[Path]:
    """The project's modules that these files import, and those they import in turn: what a
    migration runs besides its own file (the triggers' SQL, a model's default)."""
    found: set[Path] = set()
    todo = list(paths)
    while todo:
        tree = ast.parse(todo.pop().read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            for name in names:
                if name.split(".")[0] != "frontdesk":
                    continue
                try:
                    spec = importlib.util.find_spec(name)
                except ModuleNotFoundError:  # a function or class, not a module
                    continue
                origin = Path(spec.origin) if spec and spec.origin else None
                if origin and origin.suffix == ".py" and origin not in found:
                    found.add(origin)
                    todo.append(origin)
    return sorted(found)


def migrations_key() -> str:
    """A hash of what the migrated database depends on: Django's version, the engine, the pinned
    requirements, every installed app's migration files and the project's modules they
    import."""
    digest = hashlib.sha256(f"{django.__version__} {connection.vendor}".encode())
    requirements = Path(settings.BASE_DIR) / "requirements.txt"
    if requirements.exists():
        digest.update(requirements.read_bytes())
    migrations: list[Path] = []
    for config in sorted(apps.get_app_configs(), key=lambda c: c.label):
        migrations += sorted((Path(config.path) / "migrations").glob("*.py"))
    root = Path(settings.BASE_DIR)
    for path in [*migrations, *_project_modules_imported(migrations)]:
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def _lock() -> Iterator[None]:
    """One test process of this checkout at a time builds or copies the template."""
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    with open(Path(settings.VAR_DIR) / "test-template.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_copy(source: str, target: str) -> None:
    for leftover in (target, f"{target}-wal", f"{target}-shm"):
        Path(leftover).unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _pg_exists(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


class Template:
    """This run's template: where it is kept and how a test database is copied to and from it."""

    def __init__(self, test_name: str) -> None:
        self.test_name = test_name
        self.key = migrations_key()
        self.vendor = connection.vendor
        self.checkout = str(Path(settings.BASE_DIR).resolve())
        if self.vendor == "sqlite":
            self.name = str(Path(settings.VAR_DIR) / f"test-template-{self.key}.sqlite3")
        else:
            # One per checkout (its folder's hash in the name): a run proves its own migrations.
            folder = hashlib.sha256(self.checkout.encode()).hexdigest()[:8]
            self.name = f"{PREFIX}{folder}_{self.key}"

    def exists(self) -> bool:
        if self.vendor == "sqlite":
            return Path(self.name).exists()
        with connection._nodb_cursor() as cursor:
            return _pg_exists(cursor, self.name)

    def copy_to_test_database(self) -> None:
        if self.vendor == "sqlite":
            _sqlite_copy(self.name, self.test_name)
            return
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.test_name}"')
            cursor.execute(f'CREATE DATABASE "{self.test_name}" TEMPLATE "{self.name}"')

    def keep_test_database(self) -> None:
        """The freshly migrated test database becomes the template (written under another name
        and renamed, so a half-made copy is never taken for it); older templates go."""
        connection.close()
        if self.vendor == "sqlite":
            partial = f"{self.name}.{os.getpid()}.partial"
            _sqlite_copy(self.test_name, partial)
            os.replace(partial, self.name)
            for old in Path(settings.VAR_DIR).glob("test-template-*.sqlite3"):
                if str(old) != self.name:
                    old.unlink(missing_ok=True)
            return
        partial = f"{self.name}_{os.getpid()}"
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{partial}"')
            cursor.execute(f'CREATE DATABASE "{partial}" TEMPLATE "{self.test_name}"')
            # The checkout it belongs to, so a later build knows when it is no one's.
            cursor.execute(f'COMMENT ON DATABASE "{partial}" IS %s', [self.checkout])
            cursor.execute(f'ALTER DATABASE "{partial}" RENAME TO "{self.name}"')
            # Templates of this checkout's earlier migrations, or of a checkout since removed.
            cursor.execute(
                "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname LIKE %s AND datname <> %s",
                [f"{PREFIX}%", self.name],
            )
            for old, checkout in cursor.fetchall():
                if checkout == self.checkout or not checkout or not Path(checkout).exists():
                    # Another run copying it now keeps it; the next build drops it.
                    with contextlib.suppress(OperationalError):
                        cursor.execute(f'DROP DATABASE "{old}"')


def set_up_from_template(test_name: str, setup: Callable[[bool], T]) -> T:
    """`setup(keepdb)` is Django's setup_databases: with keepdb on a copy of the template, else
    building the test database from the migrations and keeping it as the template."""
    template = Template(test_name)
    with _lock():
        if template.exists():
            template.copy_to_test_database()
            return setup(True)
        made = setup(False)
        template.keep_test_database()
        return made
