"""Verification of the audit hash chain."""

from __future__ import annotations

from dataclasses import dataclass

from frontdesk.audit.models import AuditChainHead, AuditEvent
from frontdesk.audit.services import GENESIS_HASH, compute_hash


@dataclass(frozen=True)
class ChainReport:
    checked: int
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def audit_chain_verify(*, batch_size: int = 5000) -> ChainReport:
    """Walk the chain in sequence order; report the first broken link, if any."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size)
    for event in events:
        if event.seq != expected_seq:
            return ChainReport(
                checked,
                f"event #{expected_seq} is missing (the next event found is #{event.seq}).",
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                checked,
                f"event #{event.seq} does not link to event #{event.seq - 1} "
                "(its previous-hash differs).",
            )
        if compute_hash(event) != event.content_hash:
            return ChainReport(
                checked, f"event #{event.seq} was altered (its content no longer matches its hash)."
            )
        expected_prev = event.content_hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(id=1).first()
    last_seq = head.last_seq if head else 0
    last_hash = head.last_hash if head else GENESIS_HASH
    if last_seq != checked or last_hash != expected_prev:
        return ChainReport(
            checked,
            f"the chain ends at event #{checked} but the recorded tip is event #{last_seq}: "
            "events at the end were removed or replaced.",
        )
    return ChainReport(checked, None)
