"""The database side of bench/booking_race.py: the scratch databases, the naive
check-then-insert baseline, the overlap counts of its own (not the application's), the
planted double booking and pgbench."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _race_clinic import SLOT
from _race_desks import Book, Cancel, Desk

ACTIVE = ("proposed", "pending", "booked", "arrived", "checked-in", "fulfilled")
ACTIVE_SQL = ", ".join(f"'{s}'" for s in ACTIVE)


# ---------------------------------------------------------------------------------------------
# Scratch databases


@dataclass(frozen=True)
class Pg:
    url: str

    @property
    def parts(self) -> urllib.parse.ParseResult:
        return urllib.parse.urlparse(self.url)

    @property
    def name(self) -> str:
        return self.parts.path.lstrip("/")

    def with_name(self, name: str) -> Pg:
        return Pg(urllib.parse.urlunparse(self.parts._replace(path=f"/{name}")))

    def cli(self) -> list[str]:
        """Connection options for the PostgreSQL command-line tools."""
        parts = self.parts
        return [
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
        ]

    def admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.with_name("postgres").url, autocommit=True)

    def recreate(self) -> None:
        from psycopg import sql

        with self.admin() as admin:
            name = sql.Identifier(self.name)
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def drop(self) -> None:
        from psycopg import sql

        with self.admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )


# ---------------------------------------------------------------------------------------------
# The naive baseline: check, then insert, with nothing in the database to stop a double booking

NAIVE_TABLE = """
CREATE TABLE bench_naive_booking (
    id bigserial PRIMARY KEY,
    provider_id integer NOT NULL,
    patient_id integer NOT NULL,
    busy_start timestamptz NOT NULL,
    busy_end timestamptz NOT NULL,
    status text NOT NULL,
    booked_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    cancelled_at timestamptz
)
"""
# For the overlap query only; a plain index refuses nothing.
NAIVE_INDEX = (
    "CREATE INDEX bench_naive_booking_busy ON bench_naive_booking "
    "USING gist (provider_id, tstzrange(busy_start, busy_end))"
)


def naive_desk(pg: Pg, providers: int, base: dt.datetime) -> Desk:
    import psycopg

    def desk(n: int) -> tuple[Book, Cancel, Callable[[], None]]:
        conn = psycopg.connect(pg.url)  # READ COMMITTED, PostgreSQL's default and the app's

        def book(slot: int, patient: int) -> tuple[str, int | None]:
            provider = slot % providers
            start = base + SLOT * (slot // providers)
            end = start + SLOT
            with conn.transaction():
                busy = conn.execute(
                    "SELECT 1 FROM bench_naive_booking WHERE provider_id = %s "
                    "AND status = 'booked' AND busy_start < %s AND busy_end > %s LIMIT 1",
                    (provider, end, start),
                ).fetchone()
                if busy is not None:
                    return "refused: already booked", None
                row = conn.execute(
                    "INSERT INTO bench_naive_booking "
                    "(provider_id, patient_id, busy_start, busy_end, status) "
                    "VALUES (%s, %s, %s, %s, 'booked') RETURNING id",
                    (provider, patient, start, end),
                ).fetchone()
            return "booked", int(row[0]) if row else None

        def cancel(booking: int) -> bool:
            with conn.transaction():
                done = conn.execute(
                    "UPDATE bench_naive_booking SET status = 'cancelled', "
                    "cancelled_at = clock_timestamp() WHERE id = %s AND status = 'booked'",
                    (booking,),
                )
            return done.rowcount == 1

        return book, cancel, conn.close

    return desk


# ---------------------------------------------------------------------------------------------
# The independent overlap queries

APP_OVERLAPS_NOW = f"""
SELECT count(*) FROM scheduling_appointment a
JOIN scheduling_appointment b
  ON b.provider_id = a.provider_id AND a.id < b.id
 AND tstzrange(a.busy_start, a.busy_end) && tstzrange(b.busy_start, b.busy_end)
WHERE a.status IN ({ACTIVE_SQL}) AND b.status IN ({ACTIVE_SQL})
"""
# Both active at some moment: from the booking's history row (written after its insert) to
# its cancellation's updated_at (set before the cancelling UPDATE); open while not cancelled.
APP_OVERLAPS_EVER = """
SELECT count(*) FROM scheduling_appointment a
JOIN scheduling_appointment b
  ON b.provider_id = a.provider_id AND a.id < b.id
 AND tstzrange(a.busy_start, a.busy_end) && tstzrange(b.busy_start, b.busy_end)
JOIN scheduling_appointmenthistory ha ON ha.appointment_id = a.id AND ha.from_status = ''
JOIN scheduling_appointmenthistory hb ON hb.appointment_id = b.id AND hb.from_status = ''
WHERE tstzrange(ha.at, CASE WHEN a.status = 'cancelled' THEN a.updated_at END)
   && tstzrange(hb.at, CASE WHEN b.status = 'cancelled' THEN b.updated_at END)
"""
NAIVE_OVERLAPS_NOW = """
SELECT count(*) FROM bench_naive_booking a
JOIN bench_naive_booking b
  ON b.provider_id = a.provider_id AND a.id < b.id
 AND tstzrange(a.busy_start, a.busy_end) && tstzrange(b.busy_start, b.busy_end)
WHERE a.status = 'booked' AND b.status = 'booked'
"""
NAIVE_OVERLAPS_EVER = """
SELECT count(*) FROM bench_naive_booking a
JOIN bench_naive_booking b
  ON b.provider_id = a.provider_id AND a.id < b.id
 AND tstzrange(a.busy_start, a.busy_end) && tstzrange(b.busy_start, b.busy_end)
WHERE tstzrange(a.booked_at, a.cancelled_at) && tstzrange(b.booked_at, b.cancelled_at)
"""


def count(pg: Pg, query: str) -> int:
    import psycopg

    with psycopg.connect(pg.url, autocommit=True) as conn:
        return count_on(conn, query)


def count_on(conn: Any, query: str) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def planted_double_booking(pg: Pg) -> tuple[int, int]:
    """The two app-table counts with one double booking planted: inside a transaction that is
    rolled back, the no-double-booking constraint is dropped and a copy of a booked
    appointment (and of its booking history row) is inserted. Both counts must see it, or
    they could not see one made by the application either."""
    import psycopg

    from frontdesk.scheduling.constraints import NAME

    with psycopg.connect(pg.url) as conn:
        try:
            conn.execute(f"ALTER TABLE scheduling_appointment DROP CONSTRAINT {NAME}")
            conn.execute(
                "CREATE TEMP TABLE planted AS SELECT * FROM scheduling_appointment "
                "WHERE status = 'booked' ORDER BY id LIMIT 1"
            )
            conn.execute(
                "UPDATE planted SET id = "
                "nextval(pg_get_serial_sequence('scheduling_appointment', 'id'))"
            )
            conn.execute("INSERT INTO scheduling_appointment SELECT * FROM planted")
            conn.execute(
                "CREATE TEMP TABLE planted_history AS SELECT h.* "
                "FROM scheduling_appointmenthistory h JOIN scheduling_appointment a "
                "ON h.appointment_id = a.id JOIN planted p ON p.start = a.start "
                "AND p.provider_id = a.provider_id AND a.id <> p.id "
                "WHERE h.from_status = '' LIMIT 1"
            )
            conn.execute(
                "UPDATE planted_history SET appointment_id = (SELECT id FROM planted), id = "
                "nextval(pg_get_serial_sequence('scheduling_appointmenthistory', 'id'))"
            )
            conn.execute("INSERT INTO scheduling_appointmenthistory SELECT * FROM planted_history")
            return count_on(conn, APP_OVERLAPS_NOW), count_on(conn, APP_OVERLAPS_EVER)
        finally:
            conn.rollback()


# ---------------------------------------------------------------------------------------------
# pgbench


def pgbench_tps(pg: Pg, clients: int, seconds: int) -> tuple[float, str]:
    pg.recreate()
    try:
        subprocess.run(
            ["pgbench", *pg.cli(), "-i", "-q", pg.name],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        command = ["pgbench", *pg.cli(), "-N", "-c", str(clients), "-j", "2", "-T", str(seconds)]
        result = subprocess.run([*command, pg.name], check=True, capture_output=True, text=True)
    finally:
        pg.drop()
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    found = found or re.search(r"tps = ([\d.]+)", result.stdout)
    if found is None:
        raise SystemExit(f"pgbench printed no TPS:\n{result.stdout}")
    return float(found.group(1)), " ".join([*command, pg.name])
