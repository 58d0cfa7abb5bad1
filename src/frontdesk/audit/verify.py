"""Verification of the audit chain: its signatures, its patient links, and its checkpoints."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from frontdesk.audit.checkpoints import Checkpoint, checkpoint_sources, checkpoints_read
from frontdesk.audit.keys import AuditKeyring, audit_keyring
from frontdesk.audit.models import AuditChainHead, AuditEvent, AuditEventPatient
from frontdesk.audit.services import GENESIS_HASH, KEY_EVENT_TYPE, event_hash

_KEYS_NAMED = "AUDIT_HMAC_KEY, AUDIT_HMAC_OLD_KEYS, AUDIT_HMAC_OLD_KEYS_FILE"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    problem: str | None
    last_hash: str = GENESIS_HASH
    notes: tuple[str, ...] = field(default=())
    checkpoints_broken: bool = False  # the problem is in a checkpoint file, not in the chain

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class _Walk:
    """What the walk knows between events."""

    keyring: AuditKeyring
    checkpoints: dict[int, list[Checkpoint]]
    expected_seq: int = 1
    expected_prev: str = GENESIS_HASH
    # The key the chain is signed with from `active_since` on; None while it is unkeyed.
    active_key: str | None = None
    active_since: int = 0

    def problem_of(self, event: AuditEvent, links: list[int]) -> str | None:
        seq = event.seq
        if seq != self.expected_seq:
            return f"event #{self.expected_seq} is missing (the next event found is #{seq})."
        if event.prev_hash != self.expected_prev:
            return f"event #{seq} does not link to event #{seq - 1} (its previous-hash differs)."
        if not event.key_id:
            if self.active_key is not None:
                return (
                    f"event #{seq} is not signed with a key, but the chain is signed from event "
                    f"#{self.active_since} on: it was rewritten without the key."
                )
            if event_hash(event, None) != event.content_hash:
                return f"event #{seq} was altered (its content no longer matches its hash)."
        else:
            key = self.keyring.by_id.get(event.key_id)
            if key is None:
                return (
                    f"event #{seq} is signed with key id {event.key_id}, which is not among the "
                    f"keys supplied ({_KEYS_NAMED})."
                )
            if event_hash(event, key) != event.content_hash:
                return f"event #{seq} was altered (its content no longer matches its signature)."
            if self.active_key is not None and event.key_id != self.active_key:
                return (
                    f"event #{seq} is signed with key id {event.key_id}, but from event "
                    f"#{self.active_since} on the chain is signed with key id {self.active_key} "
                    "and no rotation to it is recorded."
                )
        signed_links = sorted(int(pk) for pk in event.patient_ids)
        if links != signed_links:
            removed = sorted((Counter(signed_links) - Counter(links)).elements())
            added = sorted((Counter(links) - Counter(signed_links)).elements())
            return (
                f"the patient links of event #{seq} were altered (patient ids removed: "
                f"{removed or 'none'}; added: {added or 'none'}), so the page of who accessed "
                "a patient no longer shows what the event recorded."
            )
        for checkpoint in self.checkpoints.get(seq, ()):
            if checkpoint.head_hash != event.content_hash:
                return (
                    f"event #{seq} differs from the checkpoint written at {checkpoint.at} "
                    f"({checkpoint.source}): the history up to it was rewritten."
                )
        return None

    def accept(self, event: AuditEvent) -> None:
        if event.key_id:
            if event.object_type == KEY_EVENT_TYPE:
                # Signed (so genuine): the events after it use the key it names.
                self.active_key = str(event.detail.get("key_id", ""))
                self.active_since = event.seq + 1
            elif self.active_key is None:
                self.active_key, self.active_since = event.key_id, event.seq
        self.expected_prev = event.content_hash
        self.expected_seq += 1


def audit_chain_verify(
    *,
    batch_size: int = 5000,
    keyring: AuditKeyring | None = None,
    checkpoint_files: Sequence[Path] = (),
    backup: bool = False,
) -> ChainReport:
    """Walk the chain in sequence order and report the first problem, in words: a broken hash or
    link, an event signed by a key not supplied, altered patient links, or a difference from a
    checkpoint (a rewritten history, or a tail removed after the checkpoint was written).

    `backup`: the database is a restored copy, which may end before later checkpoints; those
    within it must still match.
    """
    keyring = keyring or audit_keyring()
    sources = checkpoint_sources(checkpoint_files)
    checkpoints, problem = checkpoints_read(sources, keyring)
    if problem is not None:
        return ChainReport(0, problem, checkpoints_broken=True)
    notes: list[str] = []
    if not sources:
        notes.append(
            "No checkpoint file to compare with (AUDIT_CHECKPOINT_TARGET has no file: target; "
            "pass --checkpoints with a copy): events removed from the end cannot be detected."
        )
    elif not checkpoints:
        notes.append(
            f"No checkpoints found in {', '.join(map(str, sources))} yet: events removed from "
            "the end cannot be detected until `frontdesk worker` has written one."
        )
    by_seq: dict[int, list[Checkpoint]] = defaultdict(list)
    for checkpoint in checkpoints:
        by_seq[checkpoint.seq].append(checkpoint)
    for checkpoint in by_seq.get(0, ()):
        if checkpoint.head_hash != GENESIS_HASH:
            problem = f"checkpoint {checkpoint.source} does not match an empty chain."
            return ChainReport(0, problem, checkpoints_broken=True)

    walk = _Walk(keyring, by_seq)
    newest: AuditEvent | None = None
    while True:
        batch = list(
            AuditEvent.objects.filter(seq__gte=walk.expected_seq).order_by("seq")[:batch_size]
        )
        if not batch:
            break
        links = _links_of(batch)
        for event in batch:
            problem = walk.problem_of(event, links.get(event.pk, []))
            if problem is not None:
                return ChainReport(walk.expected_seq - 1, problem, walk.expected_prev)
            walk.accept(event)
            newest = event
    checked = walk.expected_seq - 1
    if backup:
        later = sum(1 for checkpoint in checkpoints if checkpoint.seq > checked)
        if later:
            notes.append(f"{later} checkpoints are past this copy's last event #{checked}.")
        checkpoints = [checkpoint for checkpoint in checkpoints if checkpoint.seq <= checked]
    report_end = _end_problem(walk, newest, checkpoints)
    return ChainReport(checked, report_end, walk.expected_prev, tuple(notes))


def _links_of(batch: list[AuditEvent]) -> dict[int, list[int]]:
    links: dict[int, list[int]] = defaultdict(list)
    rows = AuditEventPatient.objects.filter(event_id__in=[e.pk for e in batch]).values_list(
        "event_id", "patient_id_value"
    )
    for event_id, patient_id in rows:
        links[event_id].append(patient_id)
    for ids in links.values():
        ids.sort()
    return links


def _end_problem(
    walk: _Walk, newest: AuditEvent | None, checkpoints: list[Checkpoint]
) -> str | None:
    checked = walk.expected_seq - 1
    beyond = max(checkpoints, key=lambda c: c.seq, default=None)
    if beyond is not None and beyond.seq > checked:
        return (
            f"the chain ends at event #{checked} but the checkpoint written at {beyond.at} "
            f"({beyond.source}) recorded event #{beyond.seq}: events at the end were removed."
        )
    head = AuditChainHead.objects.filter(id=1).first()
    last_seq = head.last_seq if head else 0
    last_hash = head.last_hash if head else GENESIS_HASH
    if last_seq != checked or last_hash != walk.expected_prev:
        return (
            f"the chain ends at event #{checked} but the recorded tip is event #{last_seq}: "
            "events at the end were removed or replaced."
        )
    if newest is not None and not newest.key_id:
        # Every event written since the chain was keyed is signed, so an unsigned newest event
        # means the signed ones were removed, or none has been written since the upgrade.
        return (
            f"event #{checked}, the newest, is not signed with a key: the signed events after "
            "it were removed, or none has been recorded since keyed signing was installed "
            "(`frontdesk audit verify --checkpoint` records the switch)."
        )
    return None
