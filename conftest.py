"""Personas shared by every test: one per role, and a user of another clinic who sees nothing."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import math
import signal
import sysconfig
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from types import FrameType
from typing import Any, TypeVar

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test import Client, TransactionTestCase, override_settings
from django.test.utils import setup_databases, teardown_databases
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import settings as hypothesis_settings
from pytest_django.fixtures import _get_databases_for_setup

from frontdesk.accounts.models import User
from frontdesk.accounts.roles import Role
from frontdesk.audit.services import SYSTEM_CONTEXT
from frontdesk.audit.triggers import audit_triggers_create, audit_triggers_drop
from frontdesk.billing.drawer import drawer_open
from frontdesk.billing.models import CashDrawer
from frontdesk.billing.triggers import ledger_triggers_create, ledger_triggers_drop
from frontdesk.clinic.models import Clinic, Location
from frontdesk.lib import clinic_time
from frontdesk.patients.indexing import family_names_register, patient_derive_fields
from frontdesk.patients.models import Patient
from frontdesk.patients.mrn import mrn_reserve
from tests.database_template import set_up_from_template

PASSWORD = "correct horse battery staple"

T = TypeVar("T")

# Property tests judge answers, never speed: a loaded machine (the suite runs in parallel
# workers) must not fail an example for taking longer than Hypothesis's default 200 ms.
hypothesis_settings.register_profile("frontdesk", deadline=None)
hypothesis_settings.load_profile("frontdesk")


# Fixtures through which pytest-django gives a test the database.
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
    }
)


# Installed packages (pytest-django's own fixtures are judged by their names above).
_INSTALLED = sysconfig.get_paths()["purelib"]

# Words in a test's or a fixture's source that may mean it depends on the database all the same:
# a fixture named only at run time, pytest-django's block lifted by hand, or the database's own
# settings and connection read (which differ on PostgreSQL even when no query is made).
DATABASE_WORDS = ("getfixturevalue", "django_db_blocker", "DATABASE", "connection")


@functools.cache
def _mentions_database(function: Callable[..., object]) -> bool:
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return True
    return any(word in source for word in DATABASE_WORDS)


def _uses_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") is not None:
        return True
    if issubclass(getattr(item, "cls", None) or object, TransactionTestCase):
        return True
    # A condition may name the database (tests/test_database_faults.py runs some on PostgreSQL
    # only): such a test is kept, whatever it is skipped for.
    if item.get_closest_marker("skipif") is not None:
        return True
    names = set(getattr(item, "fixturenames", ()))
    if names & DATABASE_FIXTURES:
        return True
    if not isinstance(item, pytest.Function):
        return True
    functions = [item.function]
    for name in names:
        functions.extend(d.func for d in item._fixtureinfo.name2fixturedefs.get(name, ()))
    own = [f for f in functions if not inspect.getfile(f).startswith(_INSTALLED)]
    return any(_mentions_database(function) for function in own)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The PostgreSQL run (make test-postgres) exists to prove the database work on PostgreSQL.
    # A test that never touches the database (no django_db marker, no database fixture, even
    # through the fixtures it uses, nothing in its source or theirs that may reach it at run
    # time) has passed in the SQLite run and would only pass again the same way: about a fifth
    # of the suite, left out of the PostgreSQL run.
    if django_settings.DATABASE_VENDOR != "postgresql":
        return
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        (kept if _uses_database(item) else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """pytest-django's own, but starting from a copy of the migrated database kept by an
    earlier test process (tests/database_template.py) when there is one."""
    aliases, serialized = _get_databases_for_setup(request.session.items)

    def setup(keepdb: bool) -> Any:
        return setup_databases(
            verbosity=0,
            interactive=False,
            aliases=aliases,  # type: ignore[arg-type]  # a set, as pytest-django passes it
            serialized_aliases=serialized,
            keepdb=keepdb,
        )

    with django_db_blocker.unblock():
        made = set_up_from_template(connection.settings_dict["TEST"]["NAME"], setup)
    yield
    with django_db_blocker.unblock():
        teardown_databases(made, verbosity=0)


@pytest.fixture(autouse=True)
def _clinic_zone_names_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # lib/clinic_time.py forgets the zone names it keeps once a minute, for changes made in
    # other processes. Inside a test every change is seen (saving a clinic updates the name),
    # and forgetting them mid-test would add a query to whatever a test counts.
    monkeypatch.setattr(clinic_time, "NAMES_KEPT_SECONDS", math.inf)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Production Argon2 uses 100 MB and tens of milliseconds per hash by design; tests make
    # dozens of accounts, so they use Argon2 with small parameters (tests/hashers.py).
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]


@dataclass
class Personas:
    clinic: Clinic
    other_clinic: Clinic
    front_desk: User
    nurse: User
    physician: User
    billing: User
    supervisor: User
    admin: User
    outsider: User  # front-desk officer of another clinic

    def by_role(self) -> dict[str, User]:
        return {
            Role.FRONT_DESK: self.front_desk,
            Role.NURSE: self.nurse,
            Role.PHYSICIAN: self.physician,
            Role.BILLING: self.billing,
            Role.SUPERVISOR: self.supervisor,
            Role.ADMIN: self.admin,
        }


@functools.cache
def _password_hash(hashers: tuple[str, ...]) -> str:
    """PASSWORD hashed once per set of hashers (the first one hashes, as make_password does)."""
    return make_password(PASSWORD)


@pytest.fixture
def personas(db: None) -> Personas:
    clinic = Clinic.objects.create(name="Riverside Family Clinic")
    other = Clinic.objects.create(name="Hilltop Medical Group")
    # Every test starts here: one INSERT with one password hash. Made one by one through
    # staff_create (its validation's queries and a hash each) they cost about 7 % of a test
    # run; staff_create itself is proved through the add-staff command (test_add_staff.py).
    password = _password_hash(tuple(django_settings.PASSWORD_HASHERS))
    people = [
        ("alice", Role.FRONT_DESK, clinic),
        ("nora", Role.NURSE, clinic),
        ("phil", Role.PHYSICIAN, clinic),
        ("bill", Role.BILLING, clinic),
        ("sue", Role.SUPERVISOR, clinic),
        ("adam", Role.ADMIN, clinic),
        ("olga", Role.FRONT_DESK, other),
    ]
    made = User.objects.bulk_create(
        User(
            clinic=home,
            username=username,
            password=password,
            role=role,
            first_name=username.capitalize(),
        )
        for username, role, home in people
    )
    front_desk, nurse, physician, billing, supervisor, admin, outsider = made
    return Personas(
        clinic=clinic,
        other_clinic=other,
        front_desk=front_desk,
        nurse=nurse,
        physician=physician,
        billing=billing,
        supervisor=supervisor,
        admin=admin,
        outsider=outsider,
    )


def login_client(client: Client, user: User) -> Client:
    """Sign in as `user`; supervisors and admins also pass two-step sign-in."""
    client.force_login(user)
    if user.needs_two_factor:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="Authenticator app", defaults={"confirmed": True}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for(client: Client) -> Callable[[User], Client]:
    def make(user: User) -> Client:
        fresh = Client()
        return login_client(fresh, user)

    return make


def make_patient(clinic: Clinic, **fields: object) -> Patient:
    values: dict[str, object] = {
        "given_name": "John",
        "family_name": "Smith",
        "birth_date": dt.date(1980, 1, 2),
        "sex": "male",
        "phone": "+12025550143",
        "created_at": timezone.now(),
        "updated_at": timezone.now(),
    }
    values.update(fields)
    with transaction.atomic():
        (mrn,) = mrn_reserve(1)
        patient = patient_derive_fields(Patient(clinic=clinic, mrn=mrn, **values))
        patient.save(force_insert=True)
        family_names_register([patient.family_norm])
    return patient


@pytest.fixture
def patient(personas: Personas) -> Patient:
    return make_patient(personas.clinic)


@pytest.fixture
def ledger_triggers_restored(django_db_blocker: Any) -> Iterator[None]:
    """Puts the ledger's append-only triggers back after the flush (see below). Same name as
    the billing tests' fixture, so the triggers are recreated once whichever is used."""
    yield
    with django_db_blocker.unblock():
        ledger_triggers_create(connection)


@pytest.fixture
def audit_triggers_restored(
    ledger_triggers_restored: None, django_db_blocker: Any
) -> Iterator[None]:
    """Outer half of `transactional_audit`: puts the triggers back after the flush (database
    access is blocked again by then). tests/browser/conftest.py orders it before the live
    server's own fixture."""
    yield
    with django_db_blocker.unblock():
        audit_triggers_create(connection)


@pytest.fixture
def transactional_audit(audit_triggers_restored: None, transactional_db: None) -> Iterator[None]:
    """For tests that commit (browser and concurrency tests): Django empties the database
    afterwards, which the append-only triggers of the audit trail and of the ledger would
    refuse, so they are lifted for the flush and put back after it."""
    yield
    audit_triggers_drop(connection)
    ledger_triggers_drop(connection)


def kept_for_module(
    django_db_blocker: Any, build: Callable[[], T], **overrides: object
) -> Iterator[T]:
    """For a module-scoped fixture (`yield from`): what `build` makes stays for the module's
    tests and is rolled back after the last, as Django's TestCase does with setUpTestData. Each
    test's own transaction (the `db` fixture) is a savepoint inside this one, so whatever a test
    changes is undone before the next. Not for tests that commit (`transactional_db`), nor in a
    module whose other database tests must find the database empty. `build` runs before the
    tests' own fixtures, so with the fast password hasher and `overrides` set for it."""
    atomic = transaction.atomic()
    atomic._from_testcase = True  # type: ignore[attr-defined]  # as Django's TestCase marks its own
    with django_db_blocker.unblock():
        atomic.__enter__()
        try:
            with override_settings(
                PASSWORD_HASHERS=["tests.hashers.FastArgon2PasswordHasher"], **overrides
            ):
                made = build()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield made
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


class WatchdogFiredError(Exception):
    pass


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Interrupts the block if it runs longer than `seconds` (Python's `re` checks for signals
    while it backtracks, so a runaway match is stopped rather than hanging the suite)."""

    def fire(signum: int, frame: FrameType | None) -> None:
        raise WatchdogFiredError

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def open_drawer(
    user: User,
    *,
    opening_float: str = "100.00",
    location_name: str = "Main desk",
    now: dt.datetime | None = None,
) -> CashDrawer:
    """Open `user`'s cash drawer for today (at `now`, the clinic's day), as an officer does
    before taking payments: every payment needs one. Made through the service, so the drawer
    is exactly what the page would open."""
    assert user.clinic_id is not None
    location, _ = Location.objects.get_or_create(clinic_id=user.clinic_id, name=location_name)
    return drawer_open(
        context=SYSTEM_CONTEXT,
        user=user,
        location=location,
        opening_float=Decimal(opening_float),
        now=now or timezone.now(),
    )
