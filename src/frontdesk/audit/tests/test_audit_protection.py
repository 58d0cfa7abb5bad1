"""The keyed chain, its patient links and its checkpoints against someone who owns the database.

Each tampering is done as such a person could: the append-only triggers lifted, rows edited
with SQL, hashes recomputed with Frontdesk's own functions, but without the audit key.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY  # type: ignore[import-untyped]

from conftest import Personas, make_patient
from frontdesk.audit import keys as keys_module
from frontdesk.audit import tasks
from frontdesk.audit.checkpoints import audit_checkpoint_write, checkpoint_write
from frontdesk.audit.config import (
    CheckpointTarget,
    audit_key_check,
    parse_checkpoint_targets,
)
from frontdesk.audit.keys import AuditKey, AuditKeyUnavailableError, audit_key_id
from frontdesk.audit.models import AuditAction, AuditChainHead, AuditEvent, AuditEventPatient
from frontdesk.audit.services import (
    GENESIS_HASH,
    KEY_EVENT_TYPE,
    SYSTEM_CONTEXT,
    audit_record,
    event_hash,
)
from frontdesk.audit.triggers import audit_triggers_create, audit_triggers_drop
from frontdesk.audit.verify import audit_chain_verify

KEY = "k1-" + "a" * 61
NEW_KEY = "k2-" + "b" * 61
ATTACKER_KEY = "guess-" + "c" * 58


@pytest.fixture(autouse=True)
def keys(settings: Any, tmp_path: Path) -> None:
    """Every test signs with KEY and writes checkpoints to a file of its own."""
    settings.AUDIT_HMAC_KEY = KEY
    settings.AUDIT_HMAC_OLD_KEYS = []
    settings.AUDIT_HMAC_KEY_FILE = tmp_path / "audit_key"
    settings.AUDIT_HMAC_OLD_KEYS_FILE = tmp_path / "audit_old_keys"
    settings.AUDIT_CHECKPOINT_TARGETS = [CheckpointTarget("file", str(checkpoints_of(tmp_path)))]


def checkpoints_of(tmp_path: Path) -> Path:
    return tmp_path / "audit-checkpoints.log"


def _record(n: int, patient_ids: list[int] | None = None) -> list[AuditEvent]:
    return [
        audit_record(
            context=SYSTEM_CONTEXT,
            action=AuditAction.SYSTEM,
            detail={"n": i},
            patient_ids=patient_ids or [],
        )
        for i in range(n)
    ]


def _problem() -> str:
    report = audit_chain_verify()
    assert report.problem is not None, "the tampering went unnoticed"
    return report.problem


class _TriggersLifted:
    def __enter__(self) -> None:
        audit_triggers_drop(connection)

    def __exit__(self, *exc: object) -> None:
        audit_triggers_create(connection)


def _rewrite_from(seq: int, sign: Callable[[AuditEvent], None]) -> None:
    """Edit event #seq, then recompute every later hash with `sign` and move the head along,
    as someone with the database but not the key would try."""
    with _TriggersLifted():
        events = list(AuditEvent.objects.order_by("seq"))
        previous = events[seq - 2].content_hash if seq > 1 else GENESIS_HASH
        for event in events[seq - 1 :]:
            if event.seq == seq:
                event.actor_username = "mallory"
            event.prev_hash = previous
            sign(event)
            AuditEvent.objects.filter(pk=event.pk).update(
                actor_username=event.actor_username,
                prev_hash=event.prev_hash,
                key_id=event.key_id,
                content_hash=event.content_hash,
            )
            previous = event.content_hash
        AuditChainHead.objects.filter(id=1).update(last_hash=previous)


def _with_guessed_key_keeping_the_key_id(event: AuditEvent) -> None:
    event.content_hash = event_hash(event, AuditKey.from_text(ATTACKER_KEY))


def _with_guessed_key_and_its_id(event: AuditEvent) -> None:
    event.key_id = audit_key_id(ATTACKER_KEY.encode())
    event.content_hash = event_hash(event, AuditKey.from_text(ATTACKER_KEY))


def _with_plain_sha256_as_before(event: AuditEvent) -> None:
    event.key_id = ""
    event.content_hash = event_hash(event, None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sign", "named"),
    [
        (_with_guessed_key_keeping_the_key_id, "event #2 was altered"),
        (_with_guessed_key_and_its_id, "event #2 is signed with key id .* not among the keys"),
        (
            _with_plain_sha256_as_before,
            "event #2 is not signed with a key, but the chain is signed",
        ),
    ],
    ids=["guessed-key", "guessed-key-own-id", "plain-sha256"],
)
def test_it_names_an_event_rewritten_with_every_later_hash_recomputed_without_the_key(
    sign: Callable[[AuditEvent], None], named: str
) -> None:
    _record(4)
    _rewrite_from(2, sign)
    with pytest.raises(CommandError, match=named):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_it_refuses_a_whole_chain_rewritten_with_plain_sha256() -> None:
    _record(3)
    _rewrite_from(1, _with_plain_sha256_as_before)
    assert "event #3, the newest, is not signed" in _problem()


@pytest.mark.django_db
def test_it_names_newest_events_deleted_with_the_head_moved_back(tmp_path: Path) -> None:
    events = _record(3)
    audit_checkpoint_write()
    _record(2)
    audit_checkpoint_write()
    with _TriggersLifted():
        AuditEvent.objects.filter(seq__gt=3).delete()
        AuditChainHead.objects.filter(id=1).update(last_seq=3, last_hash=events[2].content_hash)
    with pytest.raises(CommandError) as raised:
        call_command("audit", "verify")
    message = str(raised.value)
    assert "the chain ends at event #3" in message
    assert f"{checkpoints_of(tmp_path)} line 2) recorded event #5" in message
    assert "events at the end were removed" in message


@pytest.mark.django_db
def test_it_names_a_history_rewritten_even_by_a_key_holder_at_the_checkpoint_after_it() -> None:
    _record(3)
    audit_checkpoint_write()
    _record(1)
    _rewrite_from(2, lambda event: setattr(event, "content_hash", event_hash(event, _key())))
    assert "event #3 differs from the checkpoint written at" in _problem()


def _key() -> AuditKey:
    return AuditKey.from_text(KEY)


@pytest.mark.django_db
def test_it_names_the_event_whose_patient_link_was_deleted(personas: Personas) -> None:
    first, second = make_patient(personas.clinic), make_patient(personas.clinic)
    _record(1)
    (event,) = _record(1, patient_ids=[first.pk, second.pk])
    _record(1)
    with _TriggersLifted():
        AuditEventPatient.objects.filter(event=event, patient_id_value=second.pk).delete()
    with pytest.raises(CommandError) as raised:
        call_command("audit", "verify")
    assert f"the patient links of event #2 were altered (patient ids removed: [{second.pk}]" in (
        str(raised.value)
    )


@pytest.mark.django_db
def test_it_names_a_patient_link_added_to_an_event(personas: Personas) -> None:
    patient = make_patient(personas.clinic)
    (event,) = _record(1)
    # INSERT is allowed by the triggers: no need to lift them to frame someone.
    AuditEventPatient.objects.create(event=event, patient_id_value=patient.pk)
    assert f"removed: none; added: [{patient.pk}]" in _problem()


@pytest.mark.django_db
def test_it_verifies_across_a_key_rotation_and_names_the_old_key_when_it_is_missing(
    settings: Any,
) -> None:
    _record(2)
    settings.AUDIT_HMAC_KEY = NEW_KEY
    settings.AUDIT_HMAC_OLD_KEYS = [KEY]
    _record(2)

    rotation = AuditEvent.objects.get(seq=3)
    assert rotation.object_type == KEY_EVENT_TYPE
    assert rotation.key_id == audit_key_id(KEY.encode())  # signed by the retiring key
    assert rotation.detail["key_id"] == audit_key_id(NEW_KEY.encode())
    assert AuditEvent.objects.get(seq=4).key_id == audit_key_id(NEW_KEY.encode())
    assert audit_chain_verify().ok

    settings.AUDIT_HMAC_OLD_KEYS = []
    old_id = audit_key_id(KEY.encode())
    assert _problem() == (
        f"event #1 is signed with key id {old_id}, which is not among the keys supplied "
        "(AUDIT_HMAC_KEY, AUDIT_HMAC_OLD_KEYS, AUDIT_HMAC_OLD_KEYS_FILE)."
    )


@pytest.mark.django_db
def test_an_event_signed_with_the_retired_key_after_the_rotation_is_refused(
    settings: Any,
) -> None:
    _record(1)
    settings.AUDIT_HMAC_KEY = NEW_KEY
    settings.AUDIT_HMAC_OLD_KEYS = [KEY]
    _record(1)
    # Someone holding only the retired (perhaps leaked) key appends an event after the rotation.
    with _TriggersLifted():
        last = AuditEvent.objects.get(seq=3)
        last.key_id = audit_key_id(KEY.encode())
        last.content_hash = event_hash(last, _key())
        AuditEvent.objects.filter(pk=last.pk).update(
            key_id=last.key_id, content_hash=last.content_hash
        )
        AuditChainHead.objects.filter(id=1).update(last_hash=last.content_hash)
    assert "event #3 is signed with key id" in _problem()
    assert "no rotation to it is recorded" in _problem()


@pytest.mark.django_db
def test_rotate_key_replaces_the_key_file_and_records_the_rotation(
    settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.AUDIT_HMAC_KEY = ""
    _record(2)
    old_text = (tmp_path / "audit_key").read_text().strip()

    call_command("audit", "rotate-key")

    new_text = (tmp_path / "audit_key").read_text().strip()
    assert new_text != old_text
    assert (tmp_path / "audit_old_keys").read_text().splitlines() == [old_text]
    assert (tmp_path / "audit_old_keys").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "audit_key").stat().st_mode & 0o777 == 0o600
    rotation = AuditEvent.objects.get(seq=3)
    assert rotation.detail == {
        "key_id": audit_key_id(new_text.encode()),
        "previous_key_id": audit_key_id(old_text.encode()),
    }
    assert "signs from now on (event #3)" in capsys.readouterr().out
    _record(1)
    assert AuditEvent.objects.get(seq=4).key_id == audit_key_id(new_text.encode())
    call_command("audit", "verify")


@pytest.mark.django_db
def test_rotate_key_refuses_a_key_set_in_the_environment_and_says_what_to_do() -> None:
    with pytest.raises(CommandError, match="add the current key to AUDIT_HMAC_OLD_KEYS"):
        call_command("audit", "rotate-key")


@pytest.mark.django_db
def test_a_process_that_missed_a_rotation_refuses_to_write_rather_than_sign_with_a_stale_key(
    settings: Any,
) -> None:
    settings.AUDIT_HMAC_KEY = NEW_KEY
    _record(1)
    settings.AUDIT_HMAC_KEY = KEY
    with pytest.raises(AuditKeyUnavailableError, match="which this process does not hold"):
        _record(1)


def _legacy_chain(n: int) -> None:
    """Events as written before the chain was keyed: no key id, plain SHA-256."""
    previous = GENESIS_HASH
    for seq in range(1, n + 1):
        event = AuditEvent(
            seq=seq,
            occurred_at=timezone.now(),
            actor_username="system",
            action=AuditAction.SYSTEM,
            detail={"n": seq},
            prev_hash=previous,
        )
        event.content_hash = event_hash(event, None)
        event.save(force_insert=True)
        previous = event.content_hash
    AuditChainHead.objects.update_or_create(
        id=1, defaults={"last_seq": n, "last_hash": previous, "key_id": ""}
    )


@pytest.mark.django_db
def test_an_unkeyed_chain_is_kept_and_keyed_from_the_next_event() -> None:
    _legacy_chain(2)
    _record(1)
    marker, event = AuditEvent.objects.filter(seq__gt=2).order_by("seq")
    assert marker.object_type == KEY_EVENT_TYPE
    assert marker.purpose == "audit chain keyed from here"
    assert marker.key_id == event.key_id == audit_key_id(KEY.encode())
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_the_unkeyed_prefix_cannot_be_rewritten_once_the_chain_is_keyed() -> None:
    _legacy_chain(2)
    _record(1)

    def rehash_unkeyed_only(event: AuditEvent) -> None:
        # The keyed marker after them cannot be re-signed without the key: left as it was.
        if not event.key_id:
            event.content_hash = event_hash(event, None)

    _rewrite_from(1, rehash_unkeyed_only)
    assert _problem() == "event #3 was altered (its content no longer matches its signature)."


@pytest.mark.django_db
def test_verify_checkpoint_keys_a_chain_upgraded_with_no_event_since(tmp_path: Path) -> None:
    _legacy_chain(2)
    assert "event #2, the newest, is not signed" in _problem()
    call_command("audit", "verify", "--checkpoint")
    assert audit_chain_verify().ok
    (line,) = checkpoints_of(tmp_path).read_text().splitlines()
    assert json.loads(line)["seq"] == 3


@pytest.mark.django_db
def test_verify_checkpoint_writes_the_verified_tip_and_nothing_when_the_chain_is_broken(
    tmp_path: Path,
) -> None:
    _record(2)
    call_command("audit", "verify", "--checkpoint")
    (line,) = checkpoints_of(tmp_path).read_text().splitlines()
    tip = AuditEvent.objects.get(seq=2)
    assert {k: json.loads(line)[k] for k in ("seq", "hash", "key_id")} == {
        "seq": 2,
        "hash": tip.content_hash,
        "key_id": audit_key_id(KEY.encode()),
    }
    _rewrite_from(2, _with_guessed_key_keeping_the_key_id)
    with pytest.raises(CommandError, match="event #2 was altered"):
        call_command("audit", "verify", "--checkpoint")
    assert len(checkpoints_of(tmp_path).read_text().splitlines()) == 1


def _edit_checkpoint(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = checkpoints_of(tmp_path)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data) + "\n")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda data: data.update(seq=1), "line 1 was altered (its signature does not match)"),
        (lambda data: data.pop("mac"), "line 1 cannot be read"),
        (
            lambda data: data.update(key_id=audit_key_id(ATTACKER_KEY.encode())),
            "line 1 is signed with key id",
        ),
    ],
    ids=["seq-lowered", "signature-removed", "unknown-key"],
)
def test_it_names_a_tampered_checkpoint_line(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], named: str
) -> None:
    _record(3)
    audit_checkpoint_write()
    _edit_checkpoint(tmp_path, edit)
    with pytest.raises(CommandError) as raised:
        call_command("audit", "verify")
    message = str(raised.value)
    assert message.startswith(f"Audit checkpoints broken: checkpoint {checkpoints_of(tmp_path)} ")
    assert named in message


@pytest.mark.django_db
def test_the_worker_writes_a_checkpoint_every_few_minutes(tmp_path: Path) -> None:
    (task,) = [t for t in HUEY._registry.periodic_tasks if t.name.endswith("checkpoint_task")]
    assert task.validate_datetime(dt.datetime(2026, 12, 5, 13, 5))  # noqa: DTZ001 - huey's clock
    assert not task.validate_datetime(dt.datetime(2026, 12, 5, 13, 7))  # noqa: DTZ001
    _record(2)
    tasks.audit_checkpoint_task()
    (line,) = checkpoints_of(tmp_path).read_text().splitlines()
    assert json.loads(line)["seq"] == 2
    assert checkpoints_of(tmp_path).stat().st_mode & 0o777 == 0o600


@pytest.fixture
def syslog_receiver() -> Iterator[socket.socket]:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(10)  # a guard against hanging, not a measurement
    yield receiver
    receiver.close()


@pytest.mark.django_db
def test_checkpoints_sent_to_syslog_can_be_compared_from_the_log_servers_archive(
    settings: Any, tmp_path: Path, syslog_receiver: socket.socket
) -> None:
    port = syslog_receiver.getsockname()[1]
    settings.AUDIT_CHECKPOINT_TARGETS = parse_checkpoint_targets(
        "AUDIT_CHECKPOINT_TARGET", [f"syslog:127.0.0.1:{port}"]
    )
    events = _record(3)
    audit_checkpoint_write()
    received = syslog_receiver.recv(4096).decode()
    assert "frontdesk: " in received and '"seq":3' in received
    archive = tmp_path / "syslog-archive.log"
    archive.write_text(f"Dec  5 20:00:00 desk1 {received.split('>', 1)[1]}\n")

    with _TriggersLifted():
        AuditEvent.objects.filter(seq=3).delete()
        AuditChainHead.objects.filter(id=1).update(last_seq=2, last_hash=events[1].content_hash)
    assert audit_chain_verify().ok  # no file target: this run cannot see the removal
    report = audit_chain_verify(checkpoint_files=[archive])
    assert report.problem is not None
    assert f"({archive} line 1) recorded event #3" in report.problem


def test_checkpoint_targets_are_checked_at_start_up() -> None:
    assert parse_checkpoint_targets("T", ["file:/var/log/a.log", "syslog:"]) == [
        CheckpointTarget("file", "/var/log/a.log"),
        CheckpointTarget("syslog", ""),
    ]
    assert parse_checkpoint_targets("T", ["none"]) == []
    for bad in ("file:relative.log", "s3://bucket/audit", "syslog:host"):
        with pytest.raises(ImproperlyConfigured, match="T: "):
            parse_checkpoint_targets("T", [bad])


def test_a_short_audit_key_stops_start_up() -> None:
    with pytest.raises(ImproperlyConfigured, match="AUDIT_HMAC_KEY must be at least 32 bytes"):
        audit_key_check("AUDIT_HMAC_KEY", "too short")


def test_a_failed_checkpoint_target_fails_the_write_after_trying_the_others(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.log"
    targets = [
        CheckpointTarget("syslog", str(tmp_path / "no-such-socket")),
        CheckpointTarget("file", str(good)),
    ]
    with pytest.raises(OSError, match="audit checkpoint not written to syslog:"):
        checkpoint_write(seq=0, head_hash=GENESIS_HASH, targets=targets)
    assert json.loads(good.read_text())["seq"] == 0


@pytest.mark.django_db
def test_a_restored_backup_may_end_before_later_checkpoints_but_must_match_those_it_reaches(
    tmp_path: Path,
) -> None:
    events = _record(2)
    audit_checkpoint_write()
    _record(1)
    audit_checkpoint_write()
    # The backup was taken after event #2.
    with _TriggersLifted():
        AuditEvent.objects.filter(seq=3).delete()
        AuditChainHead.objects.filter(id=1).update(last_seq=2, last_hash=events[1].content_hash)
    call_command("audit", "verify", "--backup")
    assert "removed" in _problem()
    # Rewritten by someone holding the key: signatures hold, the checkpoint of event #2 does not.
    _rewrite_from(2, lambda event: setattr(event, "content_hash", event_hash(event, _key())))
    with pytest.raises(CommandError, match="event #2 differs from the checkpoint"):
        call_command("audit", "verify", "--backup")


@pytest.mark.django_db
def test_it_says_when_a_checkpoint_file_cannot_be_read(tmp_path: Path) -> None:
    _record(1)
    checkpoints_of(tmp_path).mkdir()  # a directory where the file should be
    with pytest.raises(CommandError, match=r"checkpoint file .* cannot be read \(Is a directory\)"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_a_process_that_read_the_key_file_before_a_rotation_picks_up_the_new_key(
    settings: Any, tmp_path: Path
) -> None:
    settings.AUDIT_HMAC_KEY = ""
    _record(1)
    before_rotation = keys_module.audit_keyring()
    call_command("audit", "rotate-key")
    # Another server process still holds the keyring it read at its first event.
    keys_module._cached = before_rotation
    (event,) = _record(1)
    new_text = (tmp_path / "audit_key").read_text().strip()
    assert event.key_id == audit_key_id(new_text.encode()) != before_rotation.current.key_id
    assert AuditEvent.objects.filter(object_type=KEY_EVENT_TYPE).count() == 1
    assert audit_chain_verify().ok
