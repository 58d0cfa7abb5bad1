"""Exit 0 when the PostgreSQL server in the given URL answers, 1 otherwise."""

from __future__ import annotations

import sys

import dj_database_url
import psycopg


def main() -> int:
    config = dj_database_url.parse(sys.argv[1])
    try:
        # Connect to the maintenance database: the test database is created by the tests.
        psycopg.connect(
            host=config["HOST"] or "127.0.0.1",
            port=int(config["PORT"] or 5432),
            user=config["USER"] or "postgres",
            password=config["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=5,
        ).close()
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL unreachable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
